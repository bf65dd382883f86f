#!/usr/bin/env bash
# Benchmark: `opsmeter assess --json` against `git log --all` on a generated
# linear repository (default 1,000,000 commits, 2,000 lightweight tags),
# written by `git fast-import` with no commit-graph file.
#
#   bash benches/assess_git.sh              # 1,000,000 commits, 2,000 tags
#   bash benches/assess_git.sh 200000 400   # smaller
#
# Prints wall time and peak memory of each (median of RUNS runs, default 5: the
# machine may be shared), and opsmeter's ratios to git; then the same with a
# commit-graph file written (`git commit-graph write --reachable`), which git
# log uses and opsmeter does not need (it decodes every commit of the packs
# anyway, on all cores, for author times and messages).
#
#   RUNS=9 bash benches/assess_git.sh
#   OPSMETER=/path/to/other/opsmeter bash benches/assess_git.sh   # compare a build
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-1000000}
tags=${2:-2000}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
runs=${RUNS:-5}
if [ -n "${OPSMETER:-}" ]; then bin=$OPSMETER; else cargo build --release --quiet; bin="$PWD/target/release/opsmeter"; fi
repo="$PWD/target/bench-git/linear-$commits-$tags"

if [ ! -f "$repo/.complete" ]; then
  rm -rf "$repo"; mkdir -p "$repo"
  git -C "$repo" init -q --bare
  git -C "$repo" config gc.auto 0
  git -C "$repo" config core.commitGraph false
  python3 - "$commits" "$tags" <<'PY' | git -C "$repo" fast-import --quiet
import sys
n, t = int(sys.argv[1]), int(sys.argv[2])
every = max(1, n // t)
out = sys.stdout.buffer
base = 1_500_000_000
tag = 0
for i in range(1, n + 1):
    ts = base + i * 600
    msg = f"change {i}\n".encode()
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    out.write(b"author Dev <dev@example.org> %d +0000\ncommitter Dev <dev@example.org> %d +0000\n" % (ts, ts))
    out.write(b"data %d\n%s" % (len(msg), msg))
    out.write(b"M 644 inline f.txt\ndata %d\n%s\n" % (len(msg), msg))
    if i % every == 0 and tag < t:
        tag += 1
        out.write(b"reset refs/tags/v%d.%d.0\nfrom :%d\n\n" % (tag // 100, tag % 100, i))
PY
  touch "$repo/.complete"
fi
rm -f "$repo/objects/info/commit-graph"

run() { # run CMD... → "median_seconds median_maxrss_kb"
  : > "$repo.runs"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$repo.time" "$@" >/dev/null 2>&1
    tail -1 "$repo.time" >> "$repo.runs"
  done
  python3 - "$repo.runs" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(r[0] for r in rows), int(statistics.median(r[1] for r in rows)))
PY
}

row() { # row LABEL: times git log and opsmeter, prints one line
  local g o
  g=$(run git -C "$repo" log --all --format='%H %P %at %ct')
  o=$(run "$bin" assess --json --since 2000-01-01 --until 2100-01-01 --repo "$repo")
  awk -v l="$1" -v gs="${g%% *}" -v gk="${g##* }" -v os="${o%% *}" -v ok="${o##* }" \
    'BEGIN{printf "%-20s %8.2f %8.2f %7.2fx %9.0f %9.0f %7.2fx\n", l, gs, os, os/gs, gk/1024, ok/1024, ok/gk}'
}

echo "$commits commits, $tags tags; median of $runs runs each"
printf '%-20s %8s %8s %8s %9s %9s %8s\n' "" "git s" "ops s" ratio "git MB" "ops MB" ratio
row "no commit-graph"
git -C "$repo" -c core.commitGraph=true commit-graph write --reachable >/dev/null 2>&1
git -C "$repo" config core.commitGraph true
row "with commit-graph"
git -C "$repo" config core.commitGraph false
rm -f "$repo/objects/info/commit-graph"
