// Package stacks is the collectors' one pass over a window's stacks: it
// walks each profile once, names every function once (not once per sample),
// and attributes what it finds to components — lock sites and both sides of
// each lock, CPU inside lock primitives (the contention cost's sync CPU),
// read/write/range map work, and allocation by map growth.
//
// It also holds the frame rules everything else shares: which packages are
// lock machinery, which frames are user code, which frame is a lock
// primitive and of what kind, and which frames do map work. collectors/mutex
// and collectors/gc build their results from an Attribution; analyze reads
// those results and never walks raw stacks.
package stacks
