package window

import (
	"encoding/json"
	"fmt"
	"math"
)

// JSON has no infinities; runtime/metrics histograms have them at both ends.
// Buckets are written as numbers, or "+Inf"/"-Inf".

type histogramJSON struct {
	Counts  []uint64 `json:"counts"`
	Buckets []any    `json:"buckets"`
}

// MarshalJSON writes infinite bucket edges as "+Inf" and "-Inf".
func (h Histogram) MarshalJSON() ([]byte, error) {
	out := histogramJSON{Counts: h.Counts, Buckets: make([]any, len(h.Buckets))}
	for i, b := range h.Buckets {
		switch {
		case math.IsInf(b, 1):
			out.Buckets[i] = "+Inf"
		case math.IsInf(b, -1):
			out.Buckets[i] = "-Inf"
		default:
			out.Buckets[i] = b
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var in histogramJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if len(in.Buckets) != 0 && len(in.Buckets) != len(in.Counts)+1 {
		return fmt.Errorf("histogram has %d counts but %d bucket edges, want counts+1", len(in.Counts), len(in.Buckets))
	}
	h.Counts = in.Counts
	h.Buckets = make([]float64, len(in.Buckets))
	for i, b := range in.Buckets {
		switch v := b.(type) {
		case float64:
			h.Buckets[i] = v
		case string:
			switch v {
			case "+Inf":
				h.Buckets[i] = math.Inf(1)
			case "-Inf":
				h.Buckets[i] = math.Inf(-1)
			default:
				return fmt.Errorf("histogram bucket edge %q is not a number", v)
			}
		default:
			return fmt.Errorf("histogram bucket edge %v is not a number", b)
		}
	}
	return nil
}
