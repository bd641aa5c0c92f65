package overhead

import (
	"runtime"
	"time"

	"github.com/contendr/contendr/internal/maplab/strategy"
	"github.com/contendr/contendr/internal/maplab/workload"
)

// Throughput sums the runs of one benchmark side, for its ops/s and ops
// per CPU-second.
type Throughput struct {
	Ops     float64
	Elapsed time.Duration
	CPU     time.Duration
}

// Add counts one run.
func (t *Throughput) Add(r workload.Result) {
	t.Ops += float64(r.Ops)
	t.Elapsed += r.Elapsed
	t.CPU += time.Duration(r.CPUSeconds * float64(time.Second))
}

// Metrics are the figures a benchmark reports, by unit: ops/s, and
// ops/cpu-s when the CPU time was measured.
func (t Throughput) Metrics() map[string]float64 {
	m := map[string]float64{}
	if t.Elapsed > 0 {
		m["ops/s"] = t.Ops / t.Elapsed.Seconds()
	}
	if t.CPU > 0 {
		m["ops/cpu-s"] = t.Ops / t.CPU.Seconds()
	}
	return m
}

// Fresh returns what one benchmark run of c needs: a new, empty map of its
// strategy and its workload lasting d, after a GC so that the previous
// run's garbage is not this one's cost.
func (c Case) Fresh(d time.Duration) (strategy.Map, workload.Spec, error) {
	m, err := strategy.New(c.Strategy, strategy.Options{})
	if err != nil {
		return nil, workload.Spec{}, err
	}
	spec := c.Workload
	spec.Duration = d
	runtime.GC()
	return m, spec, nil
}
