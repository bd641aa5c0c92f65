package overhead

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime/pprof"

	"github.com/google/pprof/profile"

	"github.com/contendr/contendr/collectors/stacks"
)

// The throughput of a contended program on a shared 2-core machine varies by
// tens of percent from run to run (sync.Mutex flips between normal and
// starvation mode; other processes take cores), far more than the 1% the
// agent may cost. So every run is also CPU-profiled, and the share of the
// process's CPU spent in the profiling machinery and in the agent's own
// collection is counted directly: a measure of the agent's cost that does
// not depend on the run's throughput.

// mutexSamplingFrames record a mutex profile event (sync locks through
// mutexevent, runtime-internal locks through mLockProfile): the mutex
// fraction controls their cost. blockSamplingFrames record a block profile
// event: the block rate controls theirs. Both end in saveblockevent (stack
// capture and bucket update), so the entry point decides.
var (
	mutexSamplingFrames = regexp.MustCompile(`^runtime\.(mutexevent|\(\*mLockProfile\)\.)`)
	blockSamplingFrames = regexp.MustCompile(`^runtime\.(blockevent|saveblockevent|saveBlockEventStack)$`)
)

// agentFrames are the agent's own code: window collection, profile
// serialization and parsing it calls, HTTP handlers.
var agentFrames = regexp.MustCompile(`^github\.com/contendr/contendr/(agent|window)\.`)

// cpuCost is CPU time of one run split by who spent it.
type cpuCost struct {
	Total float64 `json:"total_cpu_seconds"`
	// Sampling is MutexSampling + BlockSampling.
	Sampling      float64 `json:"sampling_cpu_seconds"`
	MutexSampling float64 `json:"mutex_sampling_cpu_seconds"`
	BlockSampling float64 `json:"block_sampling_cpu_seconds"`
	Agent         float64 `json:"agent_cpu_seconds"`
}

// profiledRun runs f under the CPU profiler and splits the CPU it sampled.
func profiledRun(f func() error) (cpuCost, error) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return cpuCost{}, fmt.Errorf("starting the CPU profile of an overhead run: %w", err)
	}
	err := f()
	pprof.StopCPUProfile()
	if err != nil {
		return cpuCost{}, err
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		return cpuCost{}, fmt.Errorf("parsing the CPU profile of an overhead run: %w", err)
	}
	return splitCPU(p)
}

// splitCPU attributes each sample to the sampling machinery if any of its
// frames is one, else to the agent if any frame is the agent's
// (stacks.SplitCPU does the walk).
func splitCPU(p *profile.Profile) (cpuCost, error) {
	total, by, err := stacks.SplitCPU(p, mutexSamplingFrames, blockSamplingFrames, agentFrames)
	if err != nil {
		return cpuCost{}, fmt.Errorf("splitting the CPU of an overhead run: %w", err)
	}
	c := cpuCost{Total: float64(total) / 1e9, MutexSampling: float64(by[0]) / 1e9, BlockSampling: float64(by[1]) / 1e9,
		Agent: float64(by[2]) / 1e9}
	c.Sampling = c.MutexSampling + c.BlockSampling
	return c, nil
}

// profilerFrames are the CPU profiler's own work that its profile can see:
// the goroutine that turns the signal handler's records into a profile.
// The signal handler's time is not sampled (it is where samples are taken),
// so what they count is a lower bound of the profiler's cost.
var profilerFrames = regexp.MustCompile(`^runtime/pprof\.profileWriter$`)

// ProfilerCPU adds up, over CPU profiles, the CPU sampled and the part of
// it the CPU profiler spent on itself (profilerFrames).
type ProfilerCPU struct {
	Total, Profiler float64 // CPU seconds
}

// Add counts one CPU profile; nil, or a profile without CPU values, is
// skipped.
func (c *ProfilerCPU) Add(p *profile.Profile) {
	if p == nil {
		return
	}
	total, by, err := stacks.SplitCPU(p, profilerFrames)
	if err != nil {
		return
	}
	c.Total += float64(total) / 1e9
	c.Profiler += float64(by[0]) / 1e9
}
