#!/usr/bin/env bash
# Benchmark: how long a saved edit takes to reach the browser under `serve`.
#
#   bash benches/serve_edit.sh            # 10 edits
#   bash benches/serve_edit.sh 20         # more edits
#   OPSMETER=/path/to/other/opsmeter bash benches/serve_edit.sh   # compare a build
#
# It prepares this repository's handbook (content/, English and Chinese) as a
# content-only site outside git (as benches/handbook_vs_hugo.sh does), starts
# `opsmeter serve` (release build) on it, then EDITS times: writes one page
# (content/guide/testing.md) with a new sentence in its body and polls the
# page over HTTP, as a browser's reload would, until the new sentence is in
# the response. Each latency runs from just before the write to the response
# that holds the new text. Between edits it waits 300 ms so edits are not
# merged. It prints each latency and the median.
set -euo pipefail
cd "$(dirname "$0")/.."
edits=${1:-10}
if [ -n "${OPSMETER:-}" ]; then bin=$OPSMETER; else cargo build --release --quiet; bin="$PWD/target/release/opsmeter"; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/opsmeter-serve-edit.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/site"
cp -r content "$work/site/content"
cat > "$work/site/opsmeter.toml" <<'TOML'
title = "opsmeter"
base_url = "/"
default_language = "en"
languages = ["en", "zh"]
TOML

python3 - "$bin" "$work/site" "$edits" <<'PY'
import http.client, os, signal, statistics, subprocess, sys, time

binary, site, edits = sys.argv[1], sys.argv[2], int(sys.argv[3])
page = os.path.join(site, "content/guide/testing.md")
original = open(page, encoding="utf-8").read()
server = subprocess.Popen(
    [binary, "--root", site, "serve", "--port", "0"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
)
try:
    line = server.stdout.readline()  # "Serving <root> at http://127.0.0.1:PORT/ (Ctrl-C to stop)"
    if "http://" not in line:
        sys.exit(f"serve did not start: {line!r}")
    host = line.split("http://")[1].split("/")[0]
    name, port = host.rsplit(":", 1)

    def fetch(path):
        conn = http.client.HTTPConnection(name, int(port), timeout=10)
        conn.request("GET", path, headers={"Host": host})
        body = conn.getresponse().read()
        conn.close()
        return body

    assert b"Continuous Testing" in fetch("/guide/testing/"), "the page is not served"
    latencies = []
    for n in range(edits):
        marker = f"Edited for the benchmark, edit number {n} of {time.time_ns()}."
        text = original.replace("## The idea\n", f"## The idea\n\n{marker}\n", 1)
        started = time.perf_counter()
        with open(page, "w", encoding="utf-8") as f:
            f.write(text)
        deadline = started + 10
        while marker.encode() not in fetch("/guide/testing/"):
            if time.perf_counter() > deadline:
                sys.exit(f"edit {n}: not served within 10 s")
            time.sleep(0.001)
        ms = (time.perf_counter() - started) * 1000
        latencies.append(ms)
        print(f"edit {n + 1:>2}: {ms:6.1f} ms")
        time.sleep(0.3)
    print(f"median of {edits} edits: {statistics.median(latencies):.1f} ms "
          f"(min {min(latencies):.1f}, max {max(latencies):.1f})")
finally:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
PY
