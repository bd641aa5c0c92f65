//go:build go1.27

package agent

import "github.com/contendr/contendr/window"

// deepBuffers is empty where the runtime's deep records are not read: see
// records_deep.go.
type deepBuffers struct{}

// readDeep reports that this Go version's deep records are not known:
// read falls back to the exported API.
func (rr *recordReader) readDeep(window.ProfileKind) ([]record, bool) { return nil, false }
