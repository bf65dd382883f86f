#!/usr/bin/env bash
# Benchmark: probing a bare repository (the tree of HEAD's branch, read from
# the object database) against probing a checkout of the same commit.
#
# Generates one commit of N files (default 50,000) with `git fast-import`:
# source and test files, Kubernetes manifests, Dockerfiles, Terraform, docs
# and CI configuration, then a bare clone (repacked, as servers keep them) and
# a checkout of it, and times `opsmeter assess --json` on each. Both must
# report the same findings; only the `files` object differs.
#
#   bash benches/probe_bare.sh           # 50,000 files
#   bash benches/probe_bare.sh 10000     # smaller
#
# Prints the best of 3 wall times and peak memory of each, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-50000}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
bin="$PWD/target/release/opsmeter"
dir="$PWD/target/bench-bare/$files"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"; mkdir -p "$dir"
  git init -q --bare -b main "$dir/source.git"
  python3 - "$files" <<'PY' | git -C "$dir/source.git" fast-import --quiet
import random, sys
total = int(sys.argv[1])
rng = random.Random(12)
out = sys.stdout.buffer
words = "alpha beta gamma delta order payment invoice customer stock ship route cache queue retry".split()

def text(lines, prefix=""):
    return "".join(f"{prefix}{' '.join(rng.choice(words) for _ in range(8))}\n" for _ in range(lines))

def rust(i):
    return f"//! Module {i}.\n\npub fn handle_{i}(x: u64) -> u64 {{\n" + text(rng.randint(20, 60), "    // ") + "    x + 1\n}\n"

def python(i):
    return f'"""Tests {i}."""\n\n\ndef test_{i}():\n' + text(rng.randint(10, 40), "    # ") + "    assert True\n"

def manifest(app, kind):
    if kind == "deployment":
        return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{app}\nspec:\n  template:\n    spec:\n"
                f"      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: app\n"
                f"          image: registry.example.org/app{app}:1.{app}.0\n"
                f"          readinessProbe:\n            httpGet: {{path: /ready, port: 8080}}\n"
                f"          livenessProbe:\n            httpGet: {{path: /live, port: 8080}}\n"
                f"          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n            limits: {{memory: 256Mi}}\n")
    return f"apiVersion: v1\nkind: {kind.capitalize()}\nmetadata:\n  name: app{app}-{kind}\n" + text(rng.randint(5, 20), "# ")

def dockerfile(i):
    return (f"FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /svc{i} ./cmd/svc{i}\n"
            f"FROM gcr.io/distroless/static:nonroot\nCOPY --from=build /svc{i} /svc\nUSER nonroot\n"
            f"HEALTHCHECK CMD [\"/svc\", \"health\"]\nENTRYPOINT [\"/svc\"]\n")

def terraform(i):
    return f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n}}\n' + text(rng.randint(5, 20), "# ")

entries = []
fixed = {
    ".github/workflows/ci.yml": "on: [pull_request, push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11\n      - run: cargo clippy -- -D warnings\n"
        "      - run: cargo test\n      - run: cargo llvm-cov --lcov --output-path lcov.info\n      - run: terraform validate\n",
    ".github/workflows/deploy.yml": "on:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    environment: production\n"
        "    steps:\n      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11\n      - run: kubectl apply -k deploy/\n",
    ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: cargo\n    directory: /\n    schedule: {interval: weekly}\n",
    "CODEOWNERS": "* @acme/platform\n",
    "SECURITY.md": "# Security\n\nReport vulnerabilities to security@example.org.\n",
    "README.md": "# Generated\n",
    "deploy/kustomization.yaml": "resources:\n  - k8s\n",
    "monitoring/prometheus.yml": "scrape_configs:\n  - job_name: app\n",
    "monitoring/alerts.yml": "groups:\n  - name: app\n    rules:\n      - alert: HighErrorRate\n        expr: rate(errors[5m]) > 1\n",
    "Cargo.toml": "[package]\nname = \"generated\"\nversion = \"0.1.0\"\n",
}
entries.extend(fixed.items())
# Shares of the rest: 76 % source, 12 % tests, 4 % manifests, 1 % Dockerfiles, 1 % Terraform, 6 % docs.
rest = total - len(entries)
counts = {"src": rest * 76 // 100, "tests": rest * 12 // 100, "k8s": rest * 4 // 100,
          "docker": rest // 100, "tf": rest // 100}
counts["docs"] = rest - sum(counts.values())
ext = ["rs", "py", "go", "ts"]
for i in range(counts["src"]):
    entries.append((f"src/pkg{i // 380}/mod{(i // 19) % 20}/file{i % 19}.{ext[i % 4]}", rust(i)))
for i in range(counts["tests"]):
    entries.append((f"tests/pkg{i // 60}/test_{i % 60}.py", python(i)))
kinds = ["deployment", "service", "configmap", "ingress", "hpa"]
for i in range(counts["k8s"]):
    entries.append((f"deploy/k8s/app{i // 5}/{kinds[i % 5]}.yaml", manifest(i // 5, kinds[i % 5])))
for i in range(counts["docker"]):
    entries.append((f"services/svc{i}/Dockerfile", dockerfile(i)))
for i in range(counts["tf"]):
    entries.append((f"infra/mod{i}/main.tf", terraform(i)))
for i in range(counts["docs"]):
    entries.append((f"docs/sec{i // 100}/page{i % 100}.md", "# Page\n\n" + text(rng.randint(10, 50))))
assert len(entries) == total, len(entries)

out.write(b"commit refs/heads/main\n")
out.write(b"author Dev <dev@example.org> 1714521600 +0000\ncommitter Dev <dev@example.org> 1714521600 +0000\n")
out.write(b"data 9\ngenerate\n")
for path, body in entries:
    data = body.encode()
    out.write(b"M 644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
out.write(b"\nreset refs/tags/v1.0.0\nfrom refs/heads/main\n\n")
PY
  git -C "$dir/source.git" repack -adq
  git clone -q --bare --no-local "$dir/source.git" "$dir/bare.git"
  git clone -q "$dir/source.git" "$dir/checkout"
  touch "$dir/.complete"
fi
listed=$(git -C "$dir/bare.git" ls-tree -r HEAD | wc -l)

run() { # run CMD... → "seconds maxrss_kb" (best of 3)
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$dir/time" "$@" >/dev/null 2>&1
    local line; line=$(tail -1 "$dir/time")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
  done
  echo "$best"
}
assess=(assess --json --since 2024-01-01 --until 2024-06-01 --repo)

# The same findings from both (names differ: `bare` and `checkout`).
strip='del(.repos[].files, .repos[].name, .repos[].slug)'
if command -v jq >/dev/null; then
  diff <("$bin" "${assess[@]}" "$dir/checkout" | jq -S "$strip") \
       <("$bin" "${assess[@]}" "$dir/bare.git" | jq -S "$strip") >/dev/null \
    || { echo "bare and checkout findings differ" >&2; exit 1; }
fi

w=$(run "$bin" "${assess[@]}" "$dir/checkout")
b=$(run "$bin" "${assess[@]}" "$dir/bare.git")
printf '%s files\n%-22s %10s %10s\n' "$listed" source seconds "peak MB"
awk -v s="${w%% *}" -v kb="${w##* }" 'BEGIN{printf "%-22s %10.2f %10.1f\n", "checkout (work tree)", s, kb/1024}'
awk -v s="${b%% *}" -v kb="${b##* }" 'BEGIN{printf "%-22s %10.2f %10.1f\n", "bare (tree of main)", s, kb/1024}'
awk -v a="${b%% *}" -v c="${w%% *}" 'BEGIN{printf "bare/checkout wall time: %.2fx (target at most 1.5x)\n", a/c}'
