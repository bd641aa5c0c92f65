package window

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"runtime/metrics"
	"testing"
)

var bombDefaultCap = flag.Bool("bomb-default-cap", false, "also refuse a gzip bomb at the default MaxProfileBytes cap (slow)")

// gzipBomb returns a small gzip stream that inflates to inflated bytes of
// zeros: one member of 1 MiB repeated, which gzip readers concatenate
// (multistream), so that the bomb is cheap to build.
func gzipBomb(t *testing.T, inflated int64) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return bytes.Repeat(member.Bytes(), int((inflated+1<<20-1)>>20))
}

func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestGzipBombIsRefused feeds ParseProfile a few hundred KiB that inflate
// to far past the cap. It must fail with ErrTooLarge having allocated about
// the cap, not the inflated size.
func TestGzipBombIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limit    int64 // 0: MaxProfileBytes
		inflated int64
	}{
		{"64 MiB past a 1 MiB cap", 1 << 20, 64 << 20},
		{"past the default cap", 0, MaxProfileBytes + 16<<20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.limit == 0 && !*bombDefaultCap {
				t.Skip("allocates about twice MaxProfileBytes (≈570 MiB, seconds of CPU); run with -bomb-default-cap")
			}
			bomb := gzipBomb(t, tc.inflated)
			limit := tc.limit
			if limit == 0 {
				limit = MaxProfileBytes
			}
			before := allocatedBytes()
			_, err := ParseProfile(bomb, tc.limit)
			allocated := allocatedBytes() - before
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("a %d KiB gzip inflating to %d MiB: err = %v, want ErrTooLarge", len(bomb)>>10, tc.inflated>>20, err)
			}
			t.Logf("%d KiB gzip inflating to %d MiB: refused after allocating %.1f MiB (cap %d MiB)",
				len(bomb)>>10, tc.inflated>>20, float64(allocated)/(1<<20), limit>>20)
			if allocated > uint64(3*limit+8<<20) {
				t.Errorf("allocated %d MiB to refuse a bomb with a %d MiB cap: it inflated more than the cap", allocated>>20, limit>>20)
			}
		})
	}
}
