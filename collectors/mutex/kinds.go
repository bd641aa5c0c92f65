package mutex

import "github.com/contendr/contendr/collectors/stacks"

// Kind is how a lock site locks, read from the frames under it
// (stacks.KindOf).
type Kind = stacks.Kind

// Lock kinds (DESIGN.md, "Lock kind").
const (
	KindMutex         = stacks.KindMutex
	KindRWMutexWrite  = stacks.KindRWMutexWrite
	KindRWMutexRead   = stacks.KindRWMutexRead
	KindSyncMap       = stacks.KindSyncMap
	KindSyncMapLegacy = stacks.KindSyncMapLegacy
	KindChan          = stacks.KindChan
	KindSelect        = stacks.KindSelect
	KindWaitGroup     = stacks.KindWaitGroup
	KindCond          = stacks.KindCond
	KindRuntime       = stacks.KindRuntime
	KindOther         = stacks.KindOther
)

// class groups kinds for totals, shares and the lock figures.
type class = stacks.Class

const (
	classLock     = stacks.ClassLock
	classBlocking = stacks.ClassBlocking
	classRuntime  = stacks.ClassRuntime
)

func classOf(k Kind) class { return stacks.ClassOf(k) }
