package main

import "testing"

// BenchmarkMaps runs every case of every square with every implementation:
//
//	go test -bench 'Maps/session/p4-cpu' ./testapps/mapbench
func BenchmarkMaps(b *testing.B) {
	for _, c := range allSquares() {
		b.Run(c.Name(), func(b *testing.B) {
			for _, impl := range Impls {
				b.Run(string(impl), func(b *testing.B) { c.Workload.Bench(b, impl, c.Regime) })
			}
		})
	}
}

// BenchmarkCPUWork is the work a goroutine does between two map
// operations in the "cpu" regimes (aimed at about 2µs).
func BenchmarkCPUWork(b *testing.B) {
	x := uint64(1)
	for b.Loop() {
		x = burnCPU(x, cpuWorkRounds)
	}
	sink.Add(x)
}
