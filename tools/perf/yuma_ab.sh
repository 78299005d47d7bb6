#!/usr/bin/env bash
# A/B timing of two bench_yuma binaries on the same machine, interleaved so that both see the
# same load: each round runs A and B back to back (A first in odd rounds, B first in even ones,
# so neither always runs first), once per variant. Prints every run, then per variant the median
# of each binary's per-run medians and the smallest of its per-run minima (the least disturbed
# epoch; on a loaded machine the steadier figure), and B's change against A for both. Absolute times vary by a factor of
# two between machines of the same kind, and with the load of a shared one: compare only
# figures from one invocation, and run it when `uptime` shows the least load.
#
#   tools/perf/yuma_ab.sh A_BENCH B_BENCH [ROUNDS] [BENCH_ARGS...]
#
# ROUNDS defaults to 5; BENCH_ARGS to `--n 4096 --workspace 1 --runs 15`; the variants timed are
# $VARIANTS (default "yuma2 yuma3"), each passed as `--variant NAME` after BENCH_ARGS.
# With YUMA_AB_CPU=N every run is pinned to CPU N (taskset): on a VM one virtual CPU can be
# slower than the other for minutes at a time, which would otherwise land on either binary.
# Besides the medians, the summary gives the median over rounds of B / A within each round (both
# ran minutes apart at most), the figure least moved by a slow period.
# Exit status 1 when a run fails or the two binaries' checksums differ (not the same outputs).
#
# Example (baseline built from the branch point in a detached worktree):
#   tools/perf/yuma_ab.sh ../consensus-base/build/tools/perf/bench_yuma build/tools/perf/bench_yuma
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
fi
A=$1
B=$2
ROUNDS=${3:-5}
shift $(($# < 3 ? $# : 3))
if [[ $# -gt 0 ]]; then BENCH_ARGS=("$@"); else BENCH_ARGS=(--n 4096 --workspace 1 --runs 15); fi
read -r -a VARIANT_LIST <<<"${VARIANTS:-yuma2 yuma3}"
for bin in "$A" "$B"; do
  [[ -x $bin ]] || { echo "yuma_ab: not an executable: $bin" >&2; exit 2; }
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "yuma_ab: ROUNDS must be a positive integer, got '$ROUNDS'" >&2; exit 2; }

field() {  # field NAME JSON_LINE: the value of "NAME": in bench_yuma's one-line JSON
  sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"
}
median() {  # median of the arguments (numbers)
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

pin=()
if [[ -n ${YUMA_AB_CPU:-} ]]; then pin=(taskset -c "$YUMA_AB_CPU"); fi
declare -A times mins checksum ratios
echo "# A = $A"
echo "# B = $B"
echo "# bench args: ${BENCH_ARGS[*]}; variants: ${VARIANT_LIST[*]}; rounds: $ROUNDS; $(uptime | sed 's/.*load/load/')"
for ((round = 1; round <= ROUNDS; ++round)); do
  order=(A B)
  ((round % 2 == 0)) && order=(B A)
  for variant in "${VARIANT_LIST[@]}"; do
    for side in "${order[@]}"; do
      bin=$A
      [[ $side == B ]] && bin=$B
      line=$("${pin[@]}" "$bin" "${BENCH_ARGS[@]}" --variant "$variant" | tail -n 1)
      ms=$(field median_ms "$line")
      min=$(field min_ms "$line")
      sum=$(field checksum "$line")
      [[ -n $ms ]] || { echo "yuma_ab: no median_ms in output of $bin: $line" >&2; exit 1; }
      times[$side,$variant]+="$ms "
      mins[$side,$variant]+="$min "
      prev=${checksum[$variant]:-}
      if [[ -n $prev && $prev != "$sum" ]]; then
        echo "yuma_ab: checksums differ for $variant ($prev vs $sum): the binaries compute different outputs" >&2
        exit 1
      fi
      checksum[$variant]=$sum
      echo "round $round $variant $side median_ms $ms min_ms $min"
      eval "round_$side=$ms"
    done
    # shellcheck disable=SC2154  # round_A and round_B are set by the eval above
    ratios[$variant]+="$(awk -v a="$round_A" -v b="$round_B" 'BEGIN {printf "%.4f", b / a}') "
  done
done
echo "# variant  A_median_ms  B_median_ms  B_vs_A  A_min_ms  B_min_ms  B_vs_A  median_round_B/A"
for variant in "${VARIANT_LIST[@]}"; do
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  a=$(median ${times[A,$variant]})
  # shellcheck disable=SC2086
  b=$(median ${times[B,$variant]})
  # shellcheck disable=SC2086
  amin=$(printf '%s\n' ${mins[A,$variant]} | sort -g | head -n 1)
  # shellcheck disable=SC2086
  bmin=$(printf '%s\n' ${mins[B,$variant]} | sort -g | head -n 1)
  # shellcheck disable=SC2086
  r=$(median ${ratios[$variant]})
  awk -v v="$variant" -v a="$a" -v b="$b" -v amin="$amin" -v bmin="$bmin" -v r="$r" 'BEGIN {
    printf "%s  %.3f  %.3f  %+.1f%%  %.3f  %.3f  %+.1f%%  %.4f\n", v, a, b, (b / a - 1) * 100, amin, bmin, (bmin / amin - 1) * 100, r
  }'
done
