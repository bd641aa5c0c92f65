#!/usr/bin/env bash
# Whole-process comparison for docs/scale.md: go tool pprof -top, contendr
# analyze and contendr flame on one generated 100,000-stack mutex profile,
# for a baseline build and the current tree, interleaved round by round so
# that a shared machine's load falls on every command alike.
#
#   docs/scale.sh [BASELINE_COMMIT] [ROUNDS]     (defaults: b632e70, 5)
#
# Prints one line per run (tool, wall seconds, CPU seconds, max RSS KiB) to
# /tmp/scale-runs.tsv and the median and range of each to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-b632e70}
rounds=${2:-5}
work=$(mktemp -d /tmp/scale.XXXXXX)

go run ./internal/profilegen/cmd/genprofile -kind mutex -stacks 100000 -seed 1 -o "$work/big.pb.gz"
go build -o /tmp/contendr-scale ./cmd/contendr
mkdir "$work/base"
git archive "$base" | tar -x -C "$work/base"
(cd "$work/base" && go build -o /tmp/contendr-base ./cmd/contendr)

cd "$work"
runs=/tmp/scale-runs.tsv
: >"$runs"
measure() { # name command...
	local name=$1
	shift
	/usr/bin/time -v -o time.txt "$@" >/dev/null
	local wall cpu rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' time.txt)
	cpu=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.2f", s}' time.txt)
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' time.txt)
	printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$cpu" "$rss" >>"$runs"
}
for r in $(seq "$rounds"); do
	echo "round $r/$rounds, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	measure "pprof -top" go tool pprof -top big.pb.gz
	measure "analyze (base)" /tmp/contendr-base analyze big.pb.gz
	measure "analyze (new)" /tmp/contendr-scale analyze big.pb.gz
	measure "flame svg (base)" /tmp/contendr-base flame big.pb.gz -o base.svg
	measure "flame svg (new)" /tmp/contendr-scale flame big.pb.gz -o new.svg
done
cmp -s base.svg new.svg && echo "base.svg and new.svg are identical" >&2
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Median and range per tool.
stat() { # column name → "median (min–max)"
	awk -F'\t' -v n="$2" -v c="$1" '$1==n {print $c}' "$runs" | sort -g |
		awk '{v[NR]=$1} END {printf "%s (%s–%s)", v[int((NR+1)/2)], v[1], v[NR]}'
}
printf '| command | wall s, median (min–max) | CPU s (user+sys), median (min–max) | max RSS KiB, median (min–max) |\n|---|---|---|---|\n'
for name in "pprof -top" "analyze (base)" "analyze (new)" "flame svg (base)" "flame svg (new)"; do
	printf '| %s | %s | %s | %s |\n' "$name" "$(stat 2 "$name")" "$(stat 3 "$name")" "$(stat 4 "$name")"
done
rm -rf "$work"
