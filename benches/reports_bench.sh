#!/usr/bin/env bash
# Benchmark: dashboards for many repositories. Generates stored facts for N
# repositories of one GitHub organisation (each with 30 deployments over 90
# days and a few hundred changes, some failures), then times `opsmeter build`,
# which renders the overview, one report per repository (7 charts each), the
# exports and badges. Prints the time per report; it should stay flat as N grows.
#
#   bash benches/reports_bench.sh            # N = 100, 300 and 1000
#   bash benches/reports_bench.sh 50 500
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 300 1000)
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
bin="$PWD/target/release/opsmeter"
work="$PWD/target/bench-reports"

printf '%-8s %10s %14s %10s\n' repos seconds "ms/report" "peak MB"
for n in "${sizes[@]}"; do
  site="$work/site-$n"
  rm -rf "$site"; mkdir -p "$site/data/facts"
  printf '[[repos]]\ngithub_org = "acme"\n' > "$site/opsmeter.toml"
  python3 - "$site/data/facts" "$n" <<'PY'
import json, os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
base = 1_700_000_000  # 2023-11-14
def iso(t): 
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
for r in range(n):
    deps, changes = [], []
    t = base
    for d in range(30):
        t += rng.randint(1, 5) * 86400
        deps.append({"ref": f"v1.{d}.0", "sha": f"{r:08x}{d:032x}", "time": iso(t),
                     "source": "release", "status": "failure" if rng.random() < 0.1 else "success"})
        if d == 0:
            continue
        for c in range(rng.randint(3, 15)):
            changes.append({"sha": f"{r:08x}{d:016x}{c:016x}", "author_time": iso(t - rng.randint(600, 20 * 86400)),
                            "deployment": d, "fix": rng.random() < 0.1, "reverts_deployment": None, "revert": False})
    facts = {"name": f"acme/service-{r:04d}", "deployments": deps, "changes": changes, "incidents": [], "notes": [],
             "pull_requests": [], "collection": {"host": "github", "project": f"acme/service-{r:04d}",
                                                 "api_url": "https://api.github.com", "cursor": None}}
    with open(os.path.join(out, f"acme-service-{r:04d}.json"), "w") as f:
        json.dump({"schema_version": 1, "collected_at": iso(t), "facts": facts}, f)
PY
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" --root "$site" build --since 2023-11-14 --until 2024-05-01 >/dev/null
  read -r secs kb < "$work/time.txt"
  awk -v n="$n" -v s="$secs" -v kb="$kb" 'BEGIN{printf "%-8d %10.2f %14.2f %10.1f\n", n, s, s*1000/n, kb/1024}'
done
