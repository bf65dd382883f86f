#!/usr/bin/env bash
# Benchmark (issue #16): `opsmeter assess --json` computing every service of a
# generated monorepo against `git log --name-only --format=%H`, which does the
# same tree diffs (each commit against its first parent), side by side.
#
#   bash benches/monorepo.sh                    # 100,000 commits, 20 services, 2,000 tags
#   bash benches/monorepo.sh 20000 20 400       # smaller
#   RUNS=5 bash benches/monorepo.sh             # median of 5 runs (default 3)
#   OPSMETER=/path/to/opsmeter bash benches/monorepo.sh
#   REPACK=1 bash benches/monorepo.sh           # also a copy after `git repack -adf`
#                                               # and `git pack-refs` (as a clone is)
#
# The repository (bare, written by `git fast-import`, no commit-graph) has
# `services/sNN/` folders of 8 sub-folders × 6 files each, a shared
# `libs/common/` that services s00 and s01 also list in their paths, and a
# top-level `docs/`. Each commit changes one file of one service (every 20th
# also a second service's, every 50th a shared library file, every 30th only
# docs); every n/tags commits the next service in turn is tagged
# `sNN-v1.K.0`. Prints wall time, CPU time (user + system) and peak RSS
# (/usr/bin/time -f '%e %U %S %M') of each, and opsmeter's ratios to git.
# `fast-import` stores a tree as a delta of its parent's version, `git repack`
# the other way round: REPACK=1 times both layouts.
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-100000}
services=${2:-20}
tags=${3:-2000}
runs=${RUNS:-3}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
if [ -n "${OPSMETER:-}" ]; then bin=$OPSMETER; else cargo build --release --quiet; bin="$PWD/target/release/opsmeter"; fi
base="$PWD/target/bench-git/monorepo-$commits-$services-$tags"
repo="$base/repo.git"
site="$base/site"

if [ ! -f "$base/.complete" ]; then
  rm -rf "$base"; mkdir -p "$repo" "$site"
  git -C "$repo" init -q --bare
  git -C "$repo" config gc.auto 0
  git -C "$repo" config core.commitGraph false
  python3 - "$commits" "$services" "$tags" <<'PY' | git -C "$repo" fast-import --quiet
import sys
n, s, t = map(int, sys.argv[1:4])
every = max(1, n // t)
out = sys.stdout.buffer
base = 1_600_000_000
def path(svc, k):
    return b"services/s%02d/d%d/f%d.go" % (svc, k % 8, k % 6)
def blob(text):
    return b"data %d\n%s\n" % (len(text), text)
tagged = 0
for i in range(1, n + 1):
    ts = base + i * 600
    msg = b"change %d\n" % i
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    out.write(b"author Dev <dev@example.org> %d +0000\ncommitter Dev <dev@example.org> %d +0000\n" % (ts, ts))
    out.write(b"data %d\n%s" % (len(msg), msg))
    svc = (i * 7919) % s
    if i == 1:
        for v in range(s):
            for k in range(48):
                out.write(b"M 644 inline " + path(v, k) + b"\n" + blob(b"// %d" % k))
        for k in range(20):
            out.write(b"M 644 inline libs/common/c%d.go\n" % k + blob(b"// %d" % k))
            out.write(b"M 644 inline docs/p%d.md\n" % k + blob(b"# %d" % k))
    elif i % 30 == 0:
        out.write(b"M 644 inline docs/p%d.md\n" % (i % 20) + blob(msg))
    else:
        out.write(b"M 644 inline " + path(svc, i // s) + b"\n" + blob(msg))
        if i % 20 == 0:
            out.write(b"M 644 inline " + path((svc + 1) % s, i) + b"\n" + blob(msg))
        if i % 50 == 0:
            out.write(b"M 644 inline libs/common/c%d.go\n" % (i % 20) + blob(msg))
    if i % every == 0 and tagged < t:
        tagged += 1
        # Services in turn, so each gets tags/services of them.
        out.write(b"reset refs/tags/s%02d-v1.%d.0\nfrom :%d\n\n" % (tagged % s, tagged, i))
PY
  {
    printf '[[repos]]\nname = "mono"\npath = "%s"\n' "$repo"
    for v in $(seq 0 $((services - 1))); do
      name=$(printf 's%02d' "$v")
      extra=""
      [ "$v" -lt 2 ] && extra=', "libs/common/**"'
      printf '[[repos.services]]\nname = "%s"\npaths = ["services/%s/**"%s]\ntag_pattern = '"'"'^%s-v\\d+\\.\\d+\\.\\d+$'"'"'\n' "$name" "$name" "$extra" "$name"
    done
  } > "$site/opsmeter.toml"
  touch "$base/.complete"
fi

run() { # run CMD... → "median_wall_s median_cpu_s median_maxrss_kb"
  : > "$base/runs"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$base/time" "$@" >/dev/null 2>&1
    tail -1 "$base/time" >> "$base/runs"
  done
  python3 - "$base/runs" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(r[0] for r in rows), statistics.median(r[1] + r[2] for r in rows),
      int(statistics.median(r[3] for r in rows)))
PY
}

bench() { # bench LABEL REPO SITE
  local repo=$2 site=$3
  # The services' JSON must be there: a failed run would time an error.
  "$bin" assess --json --since 2000-01-01 --until 2100-01-01 --root "$site" > "$base/report.json"
  python3 - "$base/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["repos"][0]
s = r["services"]
print("services: %d, deployments: %d, changes: %d; cross-service share %s, single-service deployments %s"
      % (len(s), sum(len(x["deployments"]) for x in s),
         sum(x["dora"]["lead_time_hours"]["count"] for x in s),
         r["independence"]["cross_service_change_share"], r["independence"]["single_service_deployment_share"]))
PY
  local g o
  g=$(run git -C "$repo" log --name-only --format=%H main)
  o=$(run "$bin" assess --json --since 2000-01-01 --until 2100-01-01 --root "$site")
  echo "$1: $commits commits, $services services, $tags tags; median of $runs runs each"
  printf '%-34s %8s %8s %9s\n' "" "wall s" "CPU s" "peak MB"
  echo "$g $o" | awk '{
    printf "%-34s %8.2f %8.2f %9.0f\n", "git log --name-only --format=%H", $1, $2, $3/1024;
    printf "%-34s %8.2f %8.2f %9.0f\n", "opsmeter assess --json (services)", $4, $5, $6/1024;
    printf "%-34s %7.2fx %7.2fx %8.2fx\n", "ratio (opsmeter / git)", $4/$1, $5/$2, $6/$3 }'
}

bench "fast-import pack" "$repo" "$site"
if [ -n "${REPACK:-}" ]; then
  packed="$base/repacked"
  if [ ! -f "$packed/.complete" ]; then
    rm -rf "$packed"; mkdir -p "$packed/site"
    cp -r "$repo" "$packed/repo.git"
    git -C "$packed/repo.git" repack -adfq
    git -C "$packed/repo.git" pack-refs --all
    sed "s#$repo#$packed/repo.git#" "$site/opsmeter.toml" > "$packed/site/opsmeter.toml"
    touch "$packed/.complete"
  fi
  bench "after git repack -adf" "$packed/repo.git" "$packed/site"
fi
