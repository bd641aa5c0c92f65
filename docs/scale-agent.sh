#!/usr/bin/env bash
# The agent's per-window collection on real runtime profiles of 1,000 and
# 10,000 distinct stacks (BenchmarkCollectScale in agent/) for a baseline
# commit and the current tree, side by side: test binaries for both, run in
# turn round by round so that a shared machine's load falls on each alike,
# then benchstat. The baseline is built with the tree's benchmark and stack
# generator (agent/scale_bench_test.go, agent/stackgen_test.go) copied in,
# so that both measure the same windows through their own collection code.
#
#   docs/scale-agent.sh [BASELINE_COMMIT] [ROUNDS]     (defaults: e0447ab, 6)
#
# e0447ab is the commit before the agent read the runtime's records
# (WriteTo, gzip, profile.Parse and window.DeltaWith per profile per
# window). Raw results stay in /tmp/scale-agent.{base,new}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-e0447ab}
rounds=${2:-6}
work=$(mktemp -d /tmp/scale-agent.XXXXXX)
git archive "$base" | tar -x -C "$work"
cp agent/scale_bench_test.go agent/stackgen_test.go "$work/agent/"
(cd "$work" && nice -n 19 go test -c -o "$work/base.test" ./agent)
nice -n 19 go test -c -o "$work/new.test" ./agent
: >/tmp/scale-agent.base.txt
: >/tmp/scale-agent.new.txt
for r in $(seq "$rounds"); do
	for t in base new; do
		echo "round $r/$rounds $t, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		nice -n 19 "$work/$t.test" -test.run '^$' -test.bench 'CollectScale/stacks=.*/collect' -test.benchtime 10x >>"/tmp/scale-agent.$t.txt"
	done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
nice -n 19 go run golang.org/x/perf/cmd/benchstat base=/tmp/scale-agent.base.txt new=/tmp/scale-agent.new.txt
rm -rf "$work"
