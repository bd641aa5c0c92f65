package strategy

import (
	"fmt"
	"sync"
)

// ShardedMap splits the key space over independently locked shards, each a
// Go map under its own sync.RWMutex, so operations on different shards never
// wait for each other.
type ShardedMap struct {
	shards []shard
}

// shard is padded to a multiple of a 64-byte cache line so neighbouring
// shards' locks do not false-share.
type shard struct {
	mu sync.RWMutex // 24 bytes
	m  map[int]int  // 8 bytes
	_  [32]byte
}

// NewShardedMap returns an empty ShardedMap with n shards (DefaultShards
// when n is 0).
func NewShardedMap(n int) (*ShardedMap, error) {
	if n == 0 {
		n = DefaultShards
	}
	if n < 0 {
		return nil, fmt.Errorf("shard count must be positive, got %d", n)
	}
	s := &ShardedMap{shards: make([]shard, n)}
	for i := range s.shards {
		s.shards[i].m = make(map[int]int)
	}
	return s, nil
}

// shardFor mixes the key's bits (Fibonacci hashing) before reducing it, so
// sequential keys spread over all shards instead of striding through them.
func (s *ShardedMap) shardFor(k int) *shard {
	h := uint64(k) * 0x9E3779B97F4A7C15
	return &s.shards[(h>>32)%uint64(len(s.shards))]
}

func (s *ShardedMap) Load(k int) (int, bool) {
	sh := s.shardFor(k)
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}

func (s *ShardedMap) Store(k, v int) {
	sh := s.shardFor(k)
	sh.mu.Lock()
	sh.m[k] = v
	sh.mu.Unlock()
}

func (s *ShardedMap) Delete(k int) {
	sh := s.shardFor(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// Range visits shard after shard, holding each shard's read lock only while
// iterating that shard; f must not call back into the map's write methods.
func (s *ShardedMap) Range(f func(k, v int) bool) {
	for i := range s.shards {
		if !s.rangeShard(&s.shards[i], f) {
			return
		}
	}
}

func (s *ShardedMap) rangeShard(sh *shard, f func(k, v int) bool) bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for k, v := range sh.m {
		if !f(k, v) {
			return false
		}
	}
	return true
}
