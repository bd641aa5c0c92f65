//go:build !race

package main

// cliBuildFlags build the CLI the way the test binary was built (see
// race_test.go).
var cliBuildFlags []string
