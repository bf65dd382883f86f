#!/usr/bin/env bash
# Measurement (run by hand, not a test): opsmeter's probes on public repositories
# against labels written by reading their files (benches/labelled/labels.toml).
#
#   bash benches/labelled.sh                 # mirrors under /work/.mirror
#   MIRRORS=/path/to/mirrors bash benches/labelled.sh
#
# Each repository is read as a bare mirror at <MIRRORS>/<owner>+<name>/repo (fetch
# them first: `git clone --mirror https://github.com/<owner>/<name> <that path>`), at
# the labelled commit (a `ref` in a throw-away opsmeter.toml). Prints, per repository,
# the labels that agree, then the disagreements, the agreement and the share of
# present practices (labels "pass") that the probes found.
set -euo pipefail
cd "$(dirname "$0")/.."
mirrors=${MIRRORS:-/work/.mirror}
cargo build --quiet
bin="$PWD/target/debug/opsmeter"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$bin" "$mirrors" "$work" <<'PY'
import json, os, subprocess, sys, tomllib
bin, mirrors, work = sys.argv[1:4]
labels = tomllib.load(open("benches/labelled/labels.toml", "rb"))
agree = total = present = found = 0
misses = []
print(f"{'repository':48} {'stack':40} agree")
for repo in labels["repo"]:
    git = os.path.join(mirrors, repo["mirror"], "repo")
    if not os.path.isdir(git):
        print(f"{repo['name']:48} missing: {git} (fetch it)")
        continue
    if subprocess.run(["git", "--git-dir", git, "cat-file", "-e", repo["commit"] + "^{commit}"],
                      capture_output=True).returncode != 0:
        print(f"{repo['name']:48} commit {repo['commit'][:7]} not in {git}")
        continue
    root = os.path.join(work, repo["mirror"])
    os.makedirs(root)
    with open(os.path.join(root, "opsmeter.toml"), "w") as f:
        f.write(f'[[repos]]\nname = "{repo["mirror"]}"\npath = {json.dumps(git)}\nref = "{repo["commit"]}"\n')
    out = subprocess.run([bin, "assess", "--json", "--root", root], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{repo['name']:48} opsmeter failed: {out.stderr.strip()}")
        continue
    findings = {f["probe"]: f for f in json.loads(out.stdout)["repos"][0]["findings"]}
    ok = 0
    for probe, want in repo["labels"].items():
        got = findings.get(probe, {}).get("outcome", "missing")
        total += 1
        if got == want:
            ok += 1
        else:
            ev = findings.get(probe, {}).get("evidence", [{}])[0]
            where = f"{ev.get('path')}:{ev.get('line')} {ev.get('note', '')}" if ev else ""
            misses.append(f"  {repo['name']}: {probe} labelled {want}, probe says {got} ({where[:120]})")
        if want == "pass":
            present += 1
            found += got == "pass"
    agree += ok
    print(f"{repo['name']:48} {repo['stack'][:40]:40} {ok}/{len(repo['labels'])}")
print()
print("disagreements:" if misses else "disagreements: none")
print("\n".join(misses))
if total:
    print(f"\nlabels agreeing: {agree}/{total} = {100 * agree / total:.1f} %")
    print(f"present practices found: {found}/{present} = {100 * found / present:.1f} %")
PY
