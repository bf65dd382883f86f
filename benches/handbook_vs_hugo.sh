#!/usr/bin/env bash
# Benchmark: this repository's own handbook (content/, English and Chinese, many
# fenced code blocks), built as a content-only site by opsmeter and by hugo from
# the same Markdown files, with syntax highlighting on in both (class-based).
#
#   bash benches/handbook_vs_hugo.sh        # 9 rounds
#   bash benches/handbook_vs_hugo.sh 15     # more rounds
#   OPSMETER=/path/to/other/opsmeter bash benches/handbook_vs_hugo.sh   # compare a build
#
# opsmeter builds with its default theme (sidebar, breadcrumbs, table of
# contents, previous/next, search index, sitemap) and checks every `@/` link;
# hugo gets the same files with the `@/…md` links written out as URLs and
# small layouts with the same parts (section nav, table of contents, content,
# previous/next). Each round runs opsmeter twice, cold (its highlight cache,
# data/cache/highlight.json, removed first: every code block highlighted, as on
# a first build or a CI run without a cache) and warm (the cache the cold build
# left), then hugo; the script prints the median wall and CPU time of each and
# the median of the per-round ratios to hugo. Medians, because this machine is
# shared: one slow run should not decide.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-9}
command -v hugo >/dev/null || { echo "hugo not found: apt-get install hugo" >&2; exit 1; }
if [ -n "${OPSMETER:-}" ]; then bin=$OPSMETER; else cargo build --release --quiet; bin="$PWD/target/release/opsmeter"; fi
# Outside any git repository: a site in one would assess it too (not content-only).
work=$(mktemp -d "${TMPDIR:-/tmp}/opsmeter-handbook.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/opsmeter" "$work/hugo"

# opsmeter: the content tree and a configuration without repositories.
cp -r content "$work/opsmeter/content"
cat > "$work/opsmeter/opsmeter.toml" <<'TOML'
title = "opsmeter"
base_url = "/"
default_language = "en"
languages = ["en", "zh"]
TOML

# hugo: the same files, links rewritten (`@/guide/testing.md#x` → `/guide/testing/#x`).
cp -r content "$work/hugo/content"
python3 - "$work/hugo/content" <<'PY'
import os, re, sys
link = re.compile(r"\(@/([^)#\s]*?)(?:_index)?(?:\.zh)?\.md(#[^)\s]*)?\)")
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(d, f)
        text = open(p, encoding="utf-8").read()
        lang = "/zh" if f.endswith(".zh.md") else ""
        text = link.sub(lambda m: f"({lang}/{m.group(1)}{m.group(2) or ''})", text)
        open(p, "w", encoding="utf-8").write(text)
PY
mkdir -p "$work/hugo/layouts/_default"
cat > "$work/hugo/hugo.toml" <<'TOML'
baseURL = "http://localhost/"
title = "opsmeter"
defaultContentLanguage = "en"
disableKinds = ["taxonomy", "term", "RSS", "robotsTXT"]
[languages.en]
  weight = 1
[languages.zh]
  weight = 2
[markup.highlight]
  codeFences = true
  noClasses = false
[markup.goldmark.renderer]
  unsafe = true
TOML
cat > "$work/hugo/layouts/_default/baseof.html" <<'HTML'
<!doctype html><html lang="{{ .Lang }}"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<link rel="stylesheet" href="/style.css"></head><body>
<nav><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a><ul>{{ range site.Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></li>{{ end }}</ul></nav>
<main>{{ block "main" . }}{{ end }}</main></body></html>
HTML
cat > "$work/hugo/layouts/_default/single.html" <<'HTML'
{{ define "main" }}<nav>{{ with .Parent }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
<article><h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}</article>
{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ end }}
HTML
cat > "$work/hugo/layouts/_default/list.html" <<'HTML'
{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<ol>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ol>{{ end }}
HTML

# timed CMD... → "wall user system" in seconds, to the microsecond (GNU time
# prints hundredths, too coarse for builds of a few tens of milliseconds):
# the wall clock around the child, its CPU from getrusage. Output discarded.
cat > "$work/timed.py" <<'PY'
import os, resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
if code != 0:
    sys.exit(f"failed ({code}): {' '.join(sys.argv[1:])}")
print(f"{wall:.6f} {after.ru_utime - before.ru_utime:.6f} {after.ru_stime - before.ru_stime:.6f}")
PY
timed() {
  python3 "$work/timed.py" "$@" || exit 1
}

# One untimed build each (warm caches, and the first opsmeter build leaves the
# tree that later builds reuse, as on a developer's machine).
"$bin" --root "$work/opsmeter" build >/dev/null 2>&1
hugo --quiet --source "$work/hugo" --destination "$work/hugo/public" >/dev/null 2>&1

: > "$work/pairs.txt"
load=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$pairs"); do
  rm -rf "$work/opsmeter/data/cache"
  c=$(timed "$bin" --root "$work/opsmeter" build)
  w=$(timed "$bin" --root "$work/opsmeter" build)
  h=$(timed hugo --quiet --source "$work/hugo" --destination "$work/hugo/public")
  echo "$c $w $h" >> "$work/pairs.txt"
done
pages=$(find "$work/opsmeter/public" -name index.html | wc -l)
python3 - "$work/pairs.txt" "$pages" "$pairs" "$load" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
print(f"handbook: {sys.argv[2]} HTML pages, median of {sys.argv[3]} rounds")
print(f"{'tool':<22} {'wall s':>8} {'cpu s':>8} {'wall / hugo':>12}")
print(f"load average before: {sys.argv[4]}")
for name, i in (("opsmeter, cold cache", 0), ("opsmeter, warm cache", 3), ("hugo", 6)):
    wall = med([r[i] for r in rows])
    cpu = med([r[i + 1] + r[i + 2] for r in rows])
    ratio = med([r[i] / r[6] for r in rows if r[6] > 0])
    print(f"{name:<22} {wall:>8.4f} {cpu:>8.4f} {ratio:>11.2f}x")
PY
