package gc

import "github.com/contendr/contendr/internal/symbol"

// component is the package plus receiver type of a function, the unit a
// recommendation speaks about (DESIGN.md, "Component"); internal/symbol
// holds the one definition collectors/mutex uses too, so a lock site and its
// map's growth land on the same component.
func component(fn string) string { return symbol.Component(fn) }

// packageOf is the import path of fn's package.
func packageOf(fn string) string { return symbol.Package(fn) }
