package flame

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
)

// speedscopeSchema identifies the file format
// (https://www.speedscope.app/file-format-schema.json).
const speedscopeSchema = "https://www.speedscope.app/file-format-schema.json"

type speedscopeFile struct {
	Schema             string             `json:"$schema"`
	Shared             speedscopeShared   `json:"shared"`
	Profiles           []speedscopeSample `json:"profiles"`
	Name               string             `json:"name,omitempty"`
	ActiveProfileIndex int                `json:"activeProfileIndex"`
	Exporter           string             `json:"exporter"`
}

type speedscopeShared struct {
	Frames []speedscopeFrame `json:"frames"`
}

type speedscopeFrame struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
}

// speedscopeSample is a "sampled" profile: each sample a stack of indices
// into the shared frames, root first, with its weight.
type speedscopeSample struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	StartValue int64   `json:"startValue"`
	EndValue   int64   `json:"endValue"`
	Samples    [][]int `json:"samples"`
	Weights    []int64 `json:"weights"`
}

// WriteSpeedscope writes the graph as a speedscope file holding one sampled
// profile; every stack is kept. name titles the profile. Differential graphs
// have no speedscope form.
func WriteSpeedscope(w io.Writer, g *Graph, name string) error {
	if g.IsDiff {
		return errors.New("speedscope output of a differential graph is not supported; use svg, html or folded")
	}
	if name == "" {
		name = g.SampleType
	}
	file := speedscopeFile{
		Schema:   speedscopeSchema,
		Name:     name,
		Exporter: "contendr",
		Shared:   speedscopeShared{Frames: []speedscopeFrame{}},
	}
	prof := speedscopeSample{
		Type:     "sampled",
		Name:     name + " (" + g.SampleType + ")",
		Unit:     speedscopeUnit(g.Unit),
		EndValue: g.Total,
		Samples:  [][]int{},
		Weights:  []int64{},
	}
	frameIndex := make(map[string]int)
	var stack []int
	var walk func(n *Node)
	walk = func(n *Node) {
		if n != g.Root {
			idx, ok := frameIndex[n.Name]
			if !ok {
				idx = len(file.Shared.Frames)
				frameIndex[n.Name] = idx
				file.Shared.Frames = append(file.Shared.Frames, speedscopeFrame{Name: n.Name, File: g.files[n.Name]})
			}
			stack = append(stack, idx)
			defer func() { stack = stack[:len(stack)-1] }()
			if self := n.Self(); self > 0 {
				prof.Samples = append(prof.Samples, append([]int(nil), stack...))
				prof.Weights = append(prof.Weights, self)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(g.Root)
	file.Profiles = []speedscopeSample{prof}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(file); err != nil {
		return err
	}
	return bw.Flush()
}

// speedscopeUnit maps a pprof unit to a speedscope weight unit.
func speedscopeUnit(unit string) string {
	switch unit {
	case "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes":
		return unit
	}
	return "none"
}
