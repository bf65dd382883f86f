#!/usr/bin/env bash
# Benchmark: opsmeter build vs hugo on the same generated Markdown corpus.
#
#   bash benches/site_build.sh            # N = 1000 and 10000
#   bash benches/site_build.sh 2000 5000  # other sizes
#
# The corpus has 20 sections; each page has headings, a list, a table, a fenced
# Rust code block and links to two other pages. opsmeter links are `@/…md`
# (resolved and checked at build time); hugo gets the same text with the URLs
# written out. Syntax highlighting is on in both (class-based output).
# Prints wall time, user and system CPU time, pages per second and peak memory
# (max RSS) of each build: the median of RUNS runs (default 5; the machine may
# be shared) of a rebuild over the previous output, as when editing a site
# (two untimed builds first: the output, then the spare tree opsmeter reuses).
#
#   RUNS=9 bash benches/site_build.sh 5000
#   OPSMETER=/path/to/other/opsmeter bash benches/site_build.sh 5000   # compare a build
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

command -v hugo >/dev/null || { echo "hugo not found: apt-get install hugo" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
runs=${RUNS:-5}
if [ -n "${OPSMETER:-}" ]; then bin=$OPSMETER; else cargo build --release --quiet; bin="$PWD/target/release/opsmeter"; fi
work="$PWD/target/bench-site"

gen() { # gen DIR N MODE(opsmeter|hugo)
  local dir=$1 n=$2 mode=$3
  rm -rf "$dir"; mkdir -p "$dir/content"
  python3 - "$dir" "$n" "$mode" <<'PY'
import os, sys
root, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sections = 20
per = n // sections
def link(s, p):
    return f"@/sec-{s}/page-{p}.md" if mode == "opsmeter" else f"/sec-{s}/page-{p}/"
for s in range(sections):
    d = os.path.join(root, "content", f"sec-{s}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "_index.md"), "w") as f:
        f.write(f'+++\ntitle = "Section {s}"\nweight = {s}\n+++\n\nSection {s} of the corpus.\n')
    for p in range(per):
        a, b = (s + 1) % sections, (p + 7) % per
        with open(os.path.join(d, f"page-{p}.md"), "w") as f:
            f.write(f'''+++
title = "Page {p} of section {s}"
weight = {p}
+++

## Overview

Deployment frequency and lead time for changes are measured per week. See
[the next section's page]({link(a, b)}) and [this section's first page]({link(s, 0)}).

- build the artifact once
- promote it through **test** and *staging*
- release to production with a canary

| Metric | Elite | High |
|--------|-------|------|
| Lead time | < 1 day | < 1 week |
| Failure rate | <= 5% | <= 10% |

## Example

```rust
fn lead_time(deployed: i64, authored: i64) -> Option<i64> {{
    let span = deployed - authored;
    if span >= 0 {{ Some(span) }} else {{ None }}
}}
```

### Notes

Page {p} closes with a paragraph long enough to be realistic: a change is shipped by the
earliest deployment that reaches it, and the baseline deployment ships nothing counted.
''')
PY
  if [ "$mode" = opsmeter ]; then
    # The same page structure as the hugo layouts below (section nav, parent link,
    # table of contents, content, previous/next), so both tools render equal work.
    mkdir -p "$dir/templates"
    cat > "$dir/templates/base.html" <<'HTML'
<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{% block title %}{% endblock title %} · {{ config.title }}</title>
<link rel="stylesheet" href="/style.css"></head><body>
<nav><a href="{{ home_url }}">{{ config.title }}</a><ul>{% for s in nav.children %}<li><a href="{{ s.url }}">{{ s.title }}</a></li>{% endfor %}</ul></nav>
<main>{% block main %}{% endblock main %}</main></body></html>
HTML
    cat > "$dir/templates/macros.html" <<'HTML'
{% macro toc(entries) %}<ul>{% for h in entries %}<li><a href="#{{ h.id }}">{{ h.title }}</a>{% if h.children %}{{ self::toc(entries=h.children) }}{% endif %}</li>{% endfor %}</ul>{% endmacro toc %}
HTML
    cat > "$dir/templates/page.html" <<'HTML'
{% extends "base.html" %}{% import "macros.html" as m %}{% block title %}{{ page.title }}{% endblock title %}
{% block main %}<nav>{% set p = page.ancestors | last %}<a href="{{ p.url }}">{{ p.title }}</a></nav>
<article><h1>{{ page.title }}</h1><nav id="TableOfContents">{{ m::toc(entries=page.toc) }}</nav>{{ page.content | safe }}</article>
{% if page.earlier %}<a href="{{ page.earlier.url }}">{{ page.earlier.title }}</a>{% endif %}
{% if page.later %}<a href="{{ page.later.url }}">{{ page.later.title }}</a>{% endif %}{% endblock main %}
HTML
    cat > "$dir/templates/section.html" <<'HTML'
{% extends "base.html" %}{% block title %}{{ section.title }}{% endblock title %}
{% block main %}<h1>{{ section.title }}</h1>{{ section.content | safe }}<ol>{% for p in section.pages %}<li><a href="{{ p.url }}">{{ p.title }}</a></li>{% endfor %}</ol>{% endblock main %}
HTML
    cp "$dir/templates/section.html" "$dir/templates/index.html"
    # No sidebar: the base template above carries the section nav, as hugo's does.
    mkdir -p "$dir/templates/partials" && echo "" > "$dir/templates/partials/nav.html"
  fi
  if [ "$mode" = hugo ]; then
    mkdir -p "$dir/layouts/_default"
    cat > "$dir/hugo.toml" <<'TOML'
baseURL = "http://localhost/"
title = "bench"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT"]
[markup.highlight]
  codeFences = true
  noClasses = false
[markup.goldmark.renderer]
  unsafe = true
TOML
    cat > "$dir/layouts/_default/baseof.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<link rel="stylesheet" href="/style.css"></head><body>
<nav><a href="/">{{ site.Title }}</a><ul>{{ range site.Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></nav>
<main>{{ block "main" . }}{{ end }}</main></body></html>
HTML
    cat > "$dir/layouts/_default/single.html" <<'HTML'
{{ define "main" }}<nav>{{ with .Parent }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
<article><h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}</article>
{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ end }}
HTML
    cat > "$dir/layouts/_default/list.html" <<'HTML'
{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<ol>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ol>{{ end }}
HTML
  fi
}

median_of() { # median_of CMD... → "wall user sys maxrss_kb", each the median of $runs runs
  : > "$work/runs.txt"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >/dev/null 2>&1
    tail -1 "$work/time.txt" >> "$work/runs.txt"
  done
  python3 - "$work/runs.txt" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(*[round(statistics.median(r[i] for r in rows), 3) for i in range(4)])
PY
}

printf '%-8s %-9s %9s %8s %8s %12s %12s\n' pages tool seconds user sys pages/s "peak MB"
for n in "${sizes[@]}"; do
  gen "$work/opsmeter-$n" "$n" opsmeter
  gen "$work/hugo-$n" "$n" hugo
  "$bin" --root "$work/opsmeter-$n" build >/dev/null 2>&1
  "$bin" --root "$work/opsmeter-$n" build >/dev/null 2>&1
  hugo --quiet --source "$work/hugo-$n" --destination "$work/hugo-$n/public" >/dev/null 2>&1
  o=$(median_of "$bin" --root "$work/opsmeter-$n" build)
  h=$(median_of hugo --quiet --source "$work/hugo-$n" --destination "$work/hugo-$n/public")
  for row in "opsmeter $o" "hugo $h"; do
    set -- $row
    awk -v n="$n" -v tool="$1" -v s="$2" -v u="$3" -v sy="$4" -v kb="$5" \
      'BEGIN{printf "%-8d %-9s %9.2f %8.2f %8.2f %12.0f %12.1f\n", n, tool, s, u, sy, (s>0? n/s : 0), kb/1024}'
  done
  awk -v a="${o%% *}" -v b="${h%% *}" -v n="$n" 'BEGIN{ if (a>0) printf "%-8d opsmeter/hugo wall time: %.2fx\n", n, a/b }'
done
