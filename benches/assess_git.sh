#!/usr/bin/env bash
# Benchmark: `opsmeter assess --json` against `git log --all` on a generated
# linear repository (default 1,000,000 commits, 2,000 lightweight tags),
# written by `git fast-import` with no commit-graph file.
#
#   bash benches/assess_git.sh              # 1,000,000 commits, 2,000 tags
#   bash benches/assess_git.sh 200000 400   # smaller
#
# Prints wall time and peak memory of each, and opsmeter's ratios to git.
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-1000000}
tags=${2:-2000}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
bin="$PWD/target/release/opsmeter"
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

run() { # run LABEL CMD... → "seconds maxrss_kb"
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$repo.time" "$@" >/dev/null 2>&1
    local line; line=$(tail -1 "$repo.time")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  echo "$best"
}

g=$(run git -C "$repo" log --all --format='%H %P %at %ct')
o=$(run "$bin" assess --json --since 2000-01-01 --until 2100-01-01 --repo "$repo")
printf '%-10s %10s %10s\n' tool seconds "peak MB"
awk -v s="${g%% *}" -v kb="${g##* }" 'BEGIN{printf "%-10s %10.2f %10.1f\n", "git log", s, kb/1024}'
awk -v s="${o%% *}" -v kb="${o##* }" 'BEGIN{printf "%-10s %10.2f %10.1f\n", "opsmeter", s, kb/1024}'
awk -v a="${o%% *}" -v b="${g%% *}" -v m="${o##* }" 'BEGIN{printf "opsmeter/git wall time: %.2fx; opsmeter peak memory: %.0f MB\n", a/b, m/1024}'
