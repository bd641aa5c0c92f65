#!/usr/bin/env bash
# The agent's per-window collection at 1,000, 10,000 and 100,000 distinct
# stacks (BenchmarkCollectScale in agent/) for a baseline commit and the
# current tree, side by side: test binaries for both, run in turn round by
# round so that a shared machine's load falls on each alike, then benchstat.
#
#   docs/scale-agent.sh [BASELINE_COMMIT] [ROUNDS]     (defaults: fc7df32, 6)
#
# fc7df32 is the commit that added the benchmark, before the work it
# measures. Raw results stay in /tmp/scale-agent.{base,new}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-fc7df32}
rounds=${2:-6}
work=$(mktemp -d /tmp/scale-agent.XXXXXX)
git archive "$base" | tar -x -C "$work"
(cd "$work" && go test -c -o "$work/base.test" ./agent)
go test -c -o "$work/new.test" ./agent
: >/tmp/scale-agent.base.txt
: >/tmp/scale-agent.new.txt
for r in $(seq "$rounds"); do
	for t in base new; do
		echo "round $r/$rounds $t, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		"$work/$t.test" -test.run '^$' -test.bench CollectScale -test.benchtime 10x >>"/tmp/scale-agent.$t.txt"
	done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
go run golang.org/x/perf/cmd/benchstat base=/tmp/scale-agent.base.txt new=/tmp/scale-agent.new.txt
rm -rf "$work"
