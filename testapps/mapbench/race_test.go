//go:build race

package main

// cliBuildFlags build the CLI the way the test binary was built, so that a
// `go test -race` run finds its packages in the build cache.
var cliBuildFlags = []string{"-race"}
