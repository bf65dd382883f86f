// Real-browser end-to-end tests of opsmeter: headless Debian chromium driven
// by playwright-core, against a fixture site built and served by the real
// binary (`opsmeter serve`). Run it with `bash tests/browser/run.sh`, or with
// `node tests/browser/run.mjs` once the binary is built (OPSMETER_BIN overrides
// the binary, CHROMIUM the browser, ARTIFACTS the screenshot folder).
//
// Prints one line per test and a last line `N passed, N failed`; exits 1 on
// any failure.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { buildFixture, startServer } from "./fixture.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
  : path.join(repoRoot, "target");
const BIN = process.env.OPSMETER_BIN || path.join(targetDir, "debug", "opsmeter");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.ARTIFACTS || path.join(repoRoot, "target", "browser-artifacts");
const WINDOW = ["--since", "2024-01-01", "--until", "2024-03-01"];
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// Flags that keep chromium quiet on a closed network: without the
// background-networking ones its own connections are refused and logged.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

// ---------------------------------------------------------------- harness

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertNoProblems(problems, what) {
  if (problems.length) {
    throw new Error(`${what}: ${problems.length} problem(s)\n    ${problems.join("\n    ")}`);
  }
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (queue.length) await fn(queue.shift());
    }),
  );
}

// ---------------------------------------------------------------- browser helpers

let browser;
let server; // { url, origin, stop }
let fixture; // { dir, site, cleanup }

const closingContexts = new WeakSet();

/** A new page that records console errors, page errors, failed requests and HTTP errors. */
async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  // A navigation (or closing the page) cancels what the previous document
  // still had in flight: those requests end as net::ERR_ABORTED and are not
  // faults of the site (a missing file is an HTTP 404, reported below).
  let navigations = 0;
  let closing = false;
  const startedAt = new WeakMap();
  page.on("request", (r) => {
    startedAt.set(r, navigations);
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations++;
  });
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  page.on("console", (m) => {
    if (m.type() === "error") {
      const loc = m.location();
      problems.push(`console error: ${m.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ""}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // No page of the site opens a dialog (a fixture commit message holds <script>alert(1)</script>).
  page.on("dialog", (d) => {
    problems.push(`dialog opened: ${d.type()} ${JSON.stringify(d.message())}`);
    d.dismiss().catch(() => {});
  });
  page.on("requestfailed", (r) => {
    const reason = r.failure() ? r.failure().errorText : "failed";
    // Chromium's own favicon fetch (after load) is cancelled by any navigation,
    // and events may reach us before that navigation's; a missing icon is a 404.
    const favicon = /\/favicon\.(svg|ico)$/.test(new URL(r.url()).pathname);
    const superseded = closing || favicon || startedAt.get(r) !== navigations || r.isNavigationRequest();
    if (reason === "net::ERR_ABORTED" && superseded) return;
    problems.push(`request failed: ${r.url()} (${reason})`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const close = page.close.bind(page);
  page.close = (...args) => {
    closing = true;
    return close(...args);
  };
  if (!closingContexts.has(context)) {
    closingContexts.add(context);
    const closeContext = context.close.bind(context);
    context.close = (...args) => {
      for (const p of context.pages()) p.emit("opsmeter-closing");
      return closeContext(...args);
    };
  }
  page.on("opsmeter-closing", () => (closing = true));
  return { page, problems };
}

const sameOrigin = (u) => {
  try {
    return new URL(u).origin === server.origin;
  } catch {
    return false;
  }
};
/** Links that are resources, not pages: checked with a request, not opened. */
const isResource = (u) =>
  /^\/(api|badges|search)\//.test(u.pathname) || /\.(json|csv|svg|xml|txt|png|jpe?g|gif|webp|css|js|ico|pdf)$/i.test(u.pathname);

// ---------------------------------------------------------------- crawl

/**
 * Opens every page reachable from `/` and `/zh/` (and listed in sitemap.xml),
 * following every same-origin href of <a> and <link rel=canonical|alternate>.
 * Returns { pages: Map(url -> {ids, title, lang}), problems: [] }.
 */
async function crawl(start = ["/", "/zh/"]) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const pages = new Map();
  const resources = new Map(); // url -> first page linking it
  const links = []; // { from, to, hash, raw }
  const problems = [];
  const seen = new Set();
  const queue = [];
  const enqueue = (u, from) => {
    const url = new URL(u, server.url);
    url.hash = "";
    const key = url.href;
    if (isResource(url)) {
      if (!resources.has(key)) resources.set(key, from);
      return;
    }
    if (!seen.has(key)) {
      seen.add(key);
      queue.push({ url: key, from });
    }
  };
  for (const s of start) enqueue(s, "(start)");
  // The sitemap names every page, including any that nothing links to.
  const sitemap = await context.request.get(new URL("/sitemap.xml", server.url).href);
  assert(sitemap.status() === 200, `sitemap.xml: HTTP ${sitemap.status()}`);
  for (const m of (await sitemap.text()).matchAll(/<loc>([^<]+)<\/loc>/g)) enqueue(m[1], "sitemap.xml");

  while (queue.length) {
    const batch = queue.splice(0, queue.length);
    await pool(batch, 4, async ({ url, from }) => {
      const { page, problems: pageProblems } = await watchedPage(context);
      let response;
      try {
        response = await page.goto(url, { waitUntil: "load", timeout: 15000 });
      } catch (e) {
        pageProblems.push(`navigation failed: ${e.message.split("\n")[0]}`);
      }
      if (response && response.status() >= 400) {
        // Already recorded by the response listener; say where the link was.
        pageProblems.push(`linked from ${from}`);
      }
      const rel = new URL(url).pathname;
      if (response && response.status() < 400) {
        const found = await page.evaluate(() => ({
          ids: [...document.querySelectorAll("[id], a[name]")].map((e) => e.id || e.getAttribute("name")),
          links: [
            ...[...document.querySelectorAll("a[href]")].map((a) => ({ href: a.href, raw: a.getAttribute("href") })),
            ...[...document.querySelectorAll("link[rel=canonical][href], link[rel=alternate][href]")].map((l) => ({
              href: l.href,
              raw: l.getAttribute("href"),
            })),
          ],
          title: document.title,
          lang: document.documentElement.lang,
          h1: (document.querySelector("h1") || {}).textContent || "",
        }));
        pages.set(url, { ids: new Set(found.ids), title: found.title, lang: found.lang, h1: found.h1.trim() });
        for (const l of found.links) {
          if (!sameOrigin(l.href)) continue; // mailto:, external
          const u = new URL(l.href);
          links.push({ from: rel, to: u.origin + u.pathname + u.search, hash: u.hash, raw: l.raw });
          enqueue(l.href, rel);
        }
      }
      await page.close();
      for (const p of pageProblems) problems.push(`${rel}: ${p}`);
    });
  }

  // Resources (exports, badges, search indexes) must answer 200.
  await pool([...resources.entries()], 4, async ([url, from]) => {
    const r = await context.request.get(url);
    if (r.status() !== 200) problems.push(`${from}: link to ${new URL(url).pathname} answers HTTP ${r.status()}`);
  });

  // Fragments must name an element of the target page.
  for (const l of links) {
    if (!l.hash || l.hash === "#") continue;
    const target = pages.get(l.to);
    if (!target) continue; // a resource, or a page already reported broken
    const id = decodeURIComponent(l.hash.slice(1));
    if (!target.ids.has(id)) problems.push(`${l.from}: link ${l.raw} points to a missing anchor #${id}`);
  }
  await context.close();
  return { pages, resources, links, problems };
}

let crawled; // the crawl of the fixture, shared by later tests

test("every page loads with no console error, failed request or broken link", async () => {
  crawled = await crawl();
  const urls = [...crawled.pages.keys()].map((u) => new URL(u).pathname);
  console.log(`    crawled ${urls.length} pages, ${crawled.resources.size} resources, ${crawled.links.length} links`);
  for (const p of ["/", "/zh/", "/guide/", "/zh/guide/", "/guide/testing/", "/zh/guide/testing/", "/repos/payments/", "/repos/web-portal/", "/zh/repos/payments/", "/zh/teams/checkout/", ...servicePages(""), ...servicePages("/zh")]) {
    assert(urls.includes(p), `the crawl did not reach ${p}`);
  }
  for (const r of ["/api/report.json", "/api/report.csv"]) {
    assert([...crawled.resources.keys()].some((u) => new URL(u).pathname === r), `no page links ${r}`);
  }
  assertNoProblems(crawled.problems, "crawl");
});

test("every page has the language of its URL and a title", async () => {
  assert(crawled, "needs the crawl");
  const problems = [];
  for (const [url, info] of crawled.pages) {
    const p = new URL(url).pathname;
    const want = p.startsWith("/zh/") ? "zh" : "en";
    if (info.lang !== want) problems.push(`${p}: <html lang="${info.lang}">, expected ${want}`);
    if (!info.title.trim()) problems.push(`${p}: empty <title>`);
    if (!info.h1) problems.push(`${p}: no <h1>`);
  }
  assertNoProblems(problems, "languages and titles");
});

test("the crawler itself catches a console error, a broken link and a missing anchor", async () => {
  // A second, small site whose page template logs an error and links to a
  // missing page and a missing anchor: the crawl must report all three.
  const broken = buildFixture(repoRoot, {
    handbook: false,
    repos: false,
    extra: {
      "templates/page.html":
        '{% extends "base.html" %}{% block content %}<h1>{{ page.title }}</h1>{{ page.content | safe }}' +
        '<p><a href="/no-such-page/">broken</a> <a href="{{ config.base_path }}/#no-such-anchor">anchor</a></p>' +
        '<script>console.error("deliberate console error")</script>{% endblock content %}',
    },
  });
  const saved = server;
  const s = await startServer(BIN, broken.site, []);
  try {
    server = s;
    const result = await crawl(["/"]);
    const all = result.problems.join("\n");
    assert(/console error: deliberate console error/.test(all), `console error not caught:\n${all}`);
    assert(/HTTP 404: .*\/no-such-page\//.test(all), `broken link not caught:\n${all}`);
    assert(/missing anchor #no-such-anchor/.test(all), `missing anchor not caught:\n${all}`);
  } finally {
    server = saved;
    const { killed } = await s.stop();
    if (killed) fs.rmSync(s.workDir, { recursive: true, force: true });
    broken.cleanup();
  }
});

// ---------------------------------------------------------------- navigation

test("sidebar navigation and breadcrumbs lead where they should", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  const at = (p) => new URL(p, server.url).href;

  // Home → handbook through the sidebar.
  await page.goto(at("/"));
  await page.locator("nav.sidebar a", { hasText: "DevOps Handbook" }).first().click();
  await page.waitForURL(at("/guide/"));
  assert((await page.locator("h1").textContent()).trim() === "DevOps Handbook", "the handbook section has its title");

  // Handbook → a page through the section's page list, then the sidebar marks it current.
  await page.locator("main ol.pages a", { hasText: "Continuous Testing" }).click();
  await page.waitForURL(at("/guide/testing/"));
  const current = page.locator('nav.sidebar a[aria-current="page"]');
  assert((await current.count()) === 1, "exactly one sidebar link is marked current");
  assert((await current.getAttribute("href")) === "/guide/testing/", "the current sidebar link is the page");

  // Breadcrumbs: home › handbook › page (the last one not a link).
  const crumbs = page.locator("nav.breadcrumbs li");
  const texts = (await crumbs.allTextContents()).map((t) => t.trim());
  assert(texts.length === 3 && texts[2] === "Continuous Testing", `breadcrumbs ${JSON.stringify(texts)}`);
  assert((await crumbs.nth(2).getAttribute("aria-current")) === "page", "the last breadcrumb is the current page");
  await crumbs.nth(1).locator("a").click();
  await page.waitForURL(at("/guide/"));
  await page.goBack();
  await page.waitForURL(at("/guide/testing/"));
  await page.locator("nav.breadcrumbs li a").first().click();
  await page.waitForURL(at("/"));

  // Overview → report → breadcrumb back to the overview.
  await page.locator("#repo-table a", { hasText: "payments" }).click();
  await page.waitForURL(at("/repos/payments/"));
  assert((await page.locator("h1").textContent()).trim() === "payments", "report title");
  await page.locator("nav.breadcrumbs a").first().click();
  await page.waitForURL(at("/"));
  await context.close();
  assertNoProblems(problems, "navigation");
});

for (const lang of ["en", "zh"]) {
  test(`previous/next walk the ${lang} handbook in the order of its section page`, async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await watchedPage(context);
    const prefix = lang === "en" ? "" : `/${lang}`;
    await page.goto(new URL(`${prefix}/guide/`, server.url).href);
    const order = await page.locator("main ol.pages a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert(order.length >= 10, `the ${lang} handbook lists ${order.length} pages`);
    // Forward with rel=next from the first page, checking rel=prev points back.
    await page.goto(new URL(order[0], server.url).href);
    assert((await page.locator('a[rel="prev"]').count()) === 0, "the first page has no previous");
    const walked = [order[0]];
    for (;;) {
      const next = page.locator('nav.pager a[rel="next"]');
      if ((await next.count()) === 0) break;
      const from = new URL(page.url()).pathname;
      await next.click();
      await page.waitForURL((u) => u.pathname !== from);
      const here = new URL(page.url()).pathname;
      walked.push(here);
      assert(walked.length <= order.length, `rel=next goes on past the last page: ${walked.join(" → ")}`);
      const prev = await page.locator('nav.pager a[rel="prev"]').getAttribute("href");
      assert(prev === from, `${here}: previous is ${prev}, expected ${from}`);
      assert((await page.locator("html").getAttribute("lang")) === lang, `${here} is not in ${lang}`);
    }
    assert(JSON.stringify(walked) === JSON.stringify(order), `next order ${walked.join(" → ")}\n    section order ${order.join(" → ")}`);
    // And back with rel=prev to the first.
    for (let i = walked.length - 1; i > 0; i--) {
      await page.locator('nav.pager a[rel="prev"]').click();
      await page.waitForURL((u) => u.pathname === walked[i - 1]);
    }
    await context.close();
    assertNoProblems(problems, "previous/next");
  });
}

test("the language switcher leads to the translation, and back", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  const pairs = [
    ["/", "/zh/"],
    ["/guide/", "/zh/guide/"],
    ["/guide/testing/", "/zh/guide/testing/"],
    ["/guide/dora-metrics/", "/zh/guide/dora-metrics/"],
  ];
  for (const [en, zh] of pairs) {
    await page.goto(new URL(en, server.url).href);
    assert((await page.locator("nav.languages [aria-current]").textContent()).trim() === "en", `${en}: en is current`);
    await page.locator('nav.languages a[hreflang="zh"]').click();
    await page.waitForURL((u) => u.pathname === zh);
    assert((await page.locator("html").getAttribute("lang")) === "zh", `${zh} is in Chinese`);
    assert((await page.locator("nav.languages [aria-current]").textContent()).trim() === "zh", `${zh}: zh is current`);
    await page.locator('nav.languages a[hreflang="en"]').click();
    await page.waitForURL((u) => u.pathname === en);
  }
  // Every page of the crawl: its switcher links lead to a page in that language.
  const bad = [];
  for (const [url, info] of crawled ? crawled.pages : []) {
    void info;
    await page.goto(url);
    const targets = await page
      .locator("nav.languages a[hreflang]")
      .evaluateAll((as) => as.map((a) => ({ lang: a.getAttribute("hreflang"), href: a.href })));
    for (const t of targets) {
      const target = crawled.pages.get(new URL(t.href).href);
      if (!target) bad.push(`${new URL(url).pathname}: ${t.lang} link ${t.href} was not crawled`);
      else if (target.lang !== t.lang) bad.push(`${new URL(url).pathname}: ${t.lang} link leads to a ${target.lang} page`);
    }
  }
  await context.close();
  assertNoProblems([...problems, ...bad], "language switcher");
});

test("an alias (an old address in front matter) redirects to its page", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  await page.goto(new URL("/handbook/testing/", server.url).href);
  await page.waitForURL((u) => u.pathname === "/guide/testing/", { timeout: 5000 });
  assert((await page.locator("h1").textContent()).trim() === "Continuous Testing", "the alias lands on the chapter");
  await context.close();
  assertNoProblems(problems, "alias");
});

// ---------------------------------------------------------------- search

const searchCases = [
  { start: "/", query: "kubernetes", expect: "/guide/kubernetes/" },
  { start: "/zh/", query: "部署", expect: "/zh/guide/continuous-deployment/" },
  { start: "/zh/", query: "灰度", expect: "/zh/guide/" },
];
for (const c of searchCases) {
  test(`search on ${c.start} finds "${c.query}"`, async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await watchedPage(context);
    await page.goto(new URL(c.start, server.url).href);
    await page.locator("#search-input").fill(c.query);
    const results = page.locator("#search-results a");
    await results.first().waitFor({ state: "visible", timeout: 5000 });
    const hrefs = await results.evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    const hit = hrefs.find((h) => h.startsWith(c.expect));
    assert(hit, `results ${JSON.stringify(hrefs)} do not include ${c.expect}`);
    const lang = c.start.startsWith("/zh/") ? "/zh/" : "/";
    assert(hrefs.every((h) => h.startsWith(lang)), `results leave the ${lang} language: ${JSON.stringify(hrefs)}`);
    if (c.start === "/zh/") assert(hrefs.every((h) => h.startsWith("/zh/")), "Chinese search returns Chinese pages");
    // Following a result opens that page.
    await page.locator(`#search-results a[href="${hit}"]`).click();
    await page.waitForURL((u) => u.pathname === new URL(hit, server.url).pathname);
    await context.close();
    assertNoProblems(problems, "search");
  });
}

test("search for a word that is nowhere says so", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  await page.goto(new URL("/", server.url).href);
  await page.locator("#search-input").fill("zzqxjv");
  await page.locator("#search-results li").first().waitFor({ state: "visible", timeout: 5000 });
  assert((await page.locator("#search-results a").count()) === 0, "no result links");
  assert((await page.locator("#search-results").textContent()).includes("No results"), "says no results");
  await context.close();
  assertNoProblems(problems, "search");
});

// ---------------------------------------------------------------- dashboards

/**
 * Every chart of the page (`figure.chart`, at least `min`) renders with
 * non-zero size, has a <title> and one data table (opened first when it sits
 * in a closed <details>); it draws shapes and its table has rows, except the
 * charts named in `empty`, which must say "no data" and have an empty table.
 * Returns the charts' ids.
 */
async function checkCharts(page, min, empty = []) {
  const where = new URL(page.url()).pathname;
  const figures = page.locator("figure.chart");
  const n = await figures.count();
  assert(n >= min, `${where} has ${n} charts, expected at least ${min}`);
  const ids = [];
  for (let i = 0; i < n; i++) {
    const fig = figures.nth(i);
    const svg = fig.locator("svg.chart").first();
    const id = await svg.getAttribute("id");
    ids.push(id);
    await svg.scrollIntoViewIfNeeded();
    const box = await svg.boundingBox();
    const drawn = await svg.evaluate((s) => s.querySelectorAll("rect, path, line, circle, polyline, polygon").length);
    assert((await svg.locator("title").count()) === 1, `${where}: chart #${id} has a <title>`);
    if (empty.includes(id)) {
      // The "no data" frame: one line of text, nothing drawn, an empty table.
      const texts = await svg.locator("text").count();
      assert(drawn === 0 && texts === 1, `${where}: chart #${id} should have no data, draws ${drawn} shapes and ${texts} texts`);
      assert((await fig.locator("table tbody tr").count()) === 0, `${where}: chart #${id} has no data but table rows`);
      continue;
    }
    assert(box && box.width > 100 && box.height > 50, `${where}: chart #${id} renders at ${JSON.stringify(box)}`);
    assert(drawn > 3, `${where}: chart #${id} draws ${drawn} shapes`);
    const table = fig.locator("table");
    assert((await table.count()) === 1, `${where}: chart #${id} has a data table`);
    // A table in a closed <details>: opening it shows the numbers.
    if (!(await table.isVisible())) {
      await fig.locator("summary").click();
      await table.waitFor({ state: "visible" });
    }
    const rows = await table.locator("tbody tr").count();
    assert(rows > 0, `${where}: chart #${id}'s table has ${rows} rows`);
  }
  for (const id of empty) assert(ids.includes(id), `${where}: no chart #${id}`);
  return ids;
}

test("a report's charts render with non-zero size and their data tables are present", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  await page.goto(new URL("/repos/payments/", server.url).href);
  await checkCharts(page, 6);
  await context.close();
  assertNoProblems(problems, "report charts");
});

test("a report's slowest changes link to their deployments, which expand to what they shipped and pass axe", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  await page.goto(new URL("/repos/payments/", server.url).href);
  const rows = page.locator("#slowest-changes tbody tr");
  const n = await rows.count();
  assert(n > 0, `the slowest-changes table has ${n} rows`);
  // Each row's deployment link leads to a deployment of the list below.
  const links = page.locator("#slowest-changes a[href^='#deployment-']");
  assert((await links.count()) === n, "every slowest change links to its deployment");
  const href = await links.first().getAttribute("href");
  const target = page.locator(`details${href}`);
  assert((await target.count()) === 1, `${href} is a deployment of the list`);
  await links.first().click();
  await page.waitForFunction((h) => location.hash === h, href);
  // Closed until asked: opening it shows the changes it shipped.
  const table = target.locator("table");
  if (!(await target.evaluate((d) => d.open))) await target.locator("summary").click();
  await table.waitFor({ state: "visible" });
  const shipped = await table.locator("tbody tr").count();
  assert(shipped > 0, `${href} lists ${shipped} changes`);
  // payments' v1.3.0 failed: v1.8.1 reverted "feature 3"; its entry is open and says so.
  const failed = page.locator("details.deployment.failed");
  assert((await failed.count()) >= 1, "a failed deployment is listed");
  const cause = await failed.first().locator("ul.causes li").first().innerText();
  assert(/Reverted by/.test(cause) && /feature 3: checkout step/.test(cause), `the cause reads ${JSON.stringify(cause)}`);
  // Both ways of reaching a deployment agree: its summary names its ref.
  const summary = await target.locator("summary code").first().innerText();
  const linked = await links.first().innerText();
  assert(summary === linked, `the link says ${linked}, the deployment ${summary}`);
  await page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
  const serious = (await axe(page)).filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(serious.length === 0, `axe: ${serious.map((v) => `${v.id} (${v.nodes.join(", ")})`).join("; ")}`);
  await context.close();
  assertNoProblems(problems, "report drill-down");
});

test("the overview's table, heat map and tier chart render, and the table sorts", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  await page.goto(new URL("/", server.url).href);
  const rows = page.locator("#repo-table tbody tr");
  assert((await rows.count()) === 3, "three repositories in the overview");
  assert((await page.locator("table.heatmap tbody tr").count()) === 3, "three rows in the heat map");
  for (const svg of await page.locator("svg.chart").all()) {
    const box = await svg.boundingBox();
    assert(box && box.width > 100 && box.height > 50, `overview chart renders at ${JSON.stringify(box)}`);
  }
  // Sorting by a header: the order of the rows follows the column.
  const names = () => rows.locator("th").allTextContents();
  const before = await names();
  const header = page.locator("#repo-table thead th", { hasText: "Lead time" });
  await header.click();
  const once = await names();
  await header.click();
  const twice = await names();
  assert(JSON.stringify(once) !== JSON.stringify(twice), `sorting twice does not reverse: ${once} / ${twice}`);
  assert([...before].sort().join() === [...once].sort().join(), "sorting keeps every row");
  await context.close();
  assertNoProblems(problems, "overview");
});

// ---------------------------------------------------------------- services of a monorepo

// The fixture's monorepo "shop" (fixture.mjs): its services in the order of
// its configuration, and the figures worked out by hand from its history.
const SHOP_SERVICES = ["payments", "orders", "web", "worker", "cli"];
// Changes touching a service: the initial import (all five), one each for
// payments, orders, money (payments + orders), web, the payments API with its
// web client (payments + web), worker, cli and the revert (payments): 9, of
// which 3 touch several services. Releases that ship a service's changes (tags
// on one commit are one release): payments-v1.1.0 (payments), orders/v1.1.0 +
// web-v1.1.0 (orders, web), v1.1.0 (worker, cli), payments-v1.2.0 + v1.2.0
// (payments): 4, of which 2 ship one service. The initial import makes every
// one of the 10 pairs change together once; money adds orders + payments, the
// API payments + web. Each row: the pair's number (its bar's label), the pair, its commits.
const SHOP_PAIRS = [
  ["1", "orders + payments", "2"],
  ["2", "payments + web", "2"],
  ["3", "cli + orders", "1"],
  ["4", "cli + payments", "1"],
  ["5", "cli + web", "1"],
  ["6", "cli + worker", "1"],
  ["7", "orders + web", "1"],
  ["8", "orders + worker", "1"],
  ["9", "payments + worker", "1"],
  ["10", "web + worker", "1"],
];
// CODEOWNERS: the last matching rule wins, so orders' files belong to
// @acme/backend (not @acme/orders) and to the owners of libs/money.
const SHOP_TEAMS = {
  "acme-payments": ["payments", "orders"],
  "acme-finance": ["payments", "orders"],
  "acme-backend": ["orders", "worker"],
  "acme-web": ["web"],
  "acme-platform": ["cli"],
};
/** The pages of issue #16 in language `prefix` ("" or "/zh"): the monorepo's report, its services, a team of CODEOWNERS. */
const servicePages = (prefix) => [
  `${prefix}/repos/shop/`,
  ...SHOP_SERVICES.map((n) => `${prefix}/repos/shop/services/${n}/`),
  `${prefix}/teams/acme-payments/`,
];

for (const prefix of ["", "/zh"]) {
  test(`the monorepo's ${prefix || "/"} report lists its services, how independent they are and the coupled pairs' chart with its table`, async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await watchedPage(context);
    await page.goto(new URL(`${prefix}/repos/shop/`, server.url).href);
    const block = page.locator("section.services");
    assert((await block.count()) === 1, "the report has a services section");
    // Each service with a link to its report, in the order of the configuration.
    const links = await block
      .locator("table.services-table tbody th a")
      .evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute("href")]));
    const want = SHOP_SERVICES.map((n) => [n, `${prefix}/repos/shop/services/${n}/`]);
    assert(JSON.stringify(links) === JSON.stringify(want), `services ${JSON.stringify(links)}\n    expected ${JSON.stringify(want)}`);
    // payments' owners, the owner of most of its files first (services/payments has 3 files, libs/money 1).
    const teams = await block
      .locator("table.services-table tbody tr")
      .first()
      .locator("td:last-child a")
      .evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute("href")]));
    const wantTeams = [
      ["@acme/payments", `${prefix}/teams/acme-payments/`],
      ["@acme/finance", `${prefix}/teams/acme-finance/`],
    ];
    assert(JSON.stringify(teams) === JSON.stringify(wantTeams), `payments' teams ${JSON.stringify(teams)}`);
    // The independence block: the two shares and the number of pairs, each linked to the handbook.
    const values = (await block.locator("dl.independence dd .value").allTextContents()).map((t) => t.trim());
    assert(JSON.stringify(values) === JSON.stringify(["33.3 %", "50 %"]), `shares ${JSON.stringify(values)}`);
    const detail = (await block.locator("dl.independence dd").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    const numbers = detail.map((d) => (d.match(/\d+(\.\d+)?/g) || []).join(" "));
    // "33.3 % — 3 of the 9 changes …" in English; "33.3 % — 涉及服务的 9 个变更中，有 3 个…" in Chinese.
    const wantNumbers = prefix ? ["33.3 9 3", "50 4 2", "10"] : ["33.3 3 9", "50 2 4", "10"];
    assert(JSON.stringify(numbers) === JSON.stringify(wantNumbers), `independence reads ${JSON.stringify(detail)}`);
    // The anchor of the section in that language's chapter (the crawl checks it exists).
    const chapter = `${prefix}/guide/microservices/#${prefix ? "三个独立性指标" : "three-measures-of-independence"}`;
    const linked = await block.locator(`dl.independence dt a[href="${chapter}"]`).count();
    assert(linked === 3, `${linked} of the 3 measures link to ${chapter}`);
    // The coupled pairs: a bar per pair and the same pairs in its table.
    // shop has no coverage report.
    const ids = await checkCharts(page, 7, ["coverage-over-time"]);
    assert(ids.includes("coupled-pairs"), `no coupled-pairs chart among ${ids.join(", ")}`);
    const chart = block.locator("figure.chart");
    assert((await chart.count()) === 1, "the services section has one chart");
    const bars = await chart.locator("svg rect").evaluateAll(
      (rs) => rs.filter((r) => r.getAttribute("class") && /chart-fill-1/.test(r.getAttribute("class"))).length,
    );
    assert(bars === SHOP_PAIRS.length, `${bars} bars drawn for ${SHOP_PAIRS.length} pairs`);
    const labels = await chart.locator("svg text").allTextContents();
    for (const [n] of SHOP_PAIRS) assert(labels.some((t) => t.trim() === n), `no bar labelled ${n}: ${JSON.stringify(labels)}`);
    const rows = await chart.locator("table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent.replace(/\s+/g, " ").trim())),
    );
    assert(JSON.stringify(rows) === JSON.stringify(SHOP_PAIRS), `pairs ${JSON.stringify(rows)}`);
    await context.close();
    assertNoProblems(problems, "services of the repository");
  });
}

test("each service's report, in both languages, says what it is and renders its charts with their tables", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  for (const prefix of ["", "/zh"]) {
    for (const name of SHOP_SERVICES) {
      const p = `${prefix}/repos/shop/services/${name}/`;
      await page.goto(new URL(p, server.url).href);
      assert((await page.locator("h1").textContent()).trim() === name, `${p}: the title is the service`);
      const crumbs = await page
        .locator("nav.breadcrumbs a")
        .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      assert(
        JSON.stringify(crumbs) === JSON.stringify([`${prefix}/`, `${prefix}/repos/shop/`]),
        `${p}: breadcrumbs ${JSON.stringify(crumbs)}`,
      );
      assert((await page.locator("dl.service-facts").count()) === 1, `${p}: no facts of the service`);
      // Only payments had a failure (the revert) to recover from.
      const ids = await checkCharts(page, 6, name === "payments" ? [] : ["recovery-per-month"]);
      // Coverage history is stored per repository: no empty chart, a sentence linking to the repository's.
      assert(!ids.includes("coverage-over-time"), `${p}: a coverage chart of its own`);
      const link = await page.locator("p.coverage-history a").getAttribute("href");
      assert(link === `${prefix}/repos/shop/#coverage-over-time`, `${p}: coverage history links to ${link}`);
    }
  }
  await context.close();
  assertNoProblems(problems, "service reports");
});

test("the overview's services table lists every service with its repository and sorts", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  for (const prefix of ["", "/zh"]) {
    await page.goto(new URL(`${prefix}/`, server.url).href);
    const table = page.locator("table.services-table");
    assert((await table.count()) === 1, `${prefix}/: one services table`);
    const rows = table.locator("tbody tr");
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector("td a").getAttribute("href"), tr.querySelector("th a").getAttribute("href")]),
    );
    const want = SHOP_SERVICES.map((n) => [`${prefix}/repos/shop/`, `${prefix}/repos/shop/services/${n}/`]);
    assert(JSON.stringify(cells) === JSON.stringify(want), `${prefix}/: rows ${JSON.stringify(cells)}`);
    if (prefix) continue;
    // Lead time: cli 6 h, worker 12 h, payments and web 48 h, orders 108 h.
    const names = () => rows.locator("th").allTextContents();
    const header = table.locator("thead th", { hasText: "Lead time" });
    await header.click();
    const once = (await names()).map((t) => t.trim());
    await header.click();
    const twice = (await names()).map((t) => t.trim());
    // payments and web tie at 48 h: either order is sorted.
    const ascending = [once, twice].find((o) => o[0] === "cli");
    const descending = [once, twice].find((o) => o[0] === "orders");
    assert(
      ascending && descending && ascending[1] === "worker" && ascending[4] === "orders" && descending[3] === "worker" && descending[4] === "cli",
      `sorted by lead time, twice: ${JSON.stringify(once)} / ${JSON.stringify(twice)}`,
    );
  }
  await context.close();
  assertNoProblems(problems, "overview services");
});

test("a team of CODEOWNERS lists the services it owns, in both languages", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  for (const prefix of ["", "/zh"]) {
    for (const [slug, services] of Object.entries(SHOP_TEAMS)) {
      const p = `${prefix}/teams/${slug}/`;
      await page.goto(new URL(p, server.url).href);
      const owned = (await page.locator("table.services-table tbody th a").allTextContents()).map((t) => t.trim());
      assert(JSON.stringify(owned.sort()) === JSON.stringify([...services].sort()), `${p} lists ${JSON.stringify(owned)}`);
    }
    // The owner of no file (its rule is overridden by a later one) has no page.
    const r = await context.request.get(new URL(`${prefix}/teams/acme-orders/`, server.url).href);
    assert(r.status() === 404, `${prefix}/teams/acme-orders/ answers ${r.status()}`);
  }
  await context.close();
  assertNoProblems(problems, "teams of CODEOWNERS");
});

test("every link on the service pages (report, services, overview, team) was followed and loads", async () => {
  assert(crawled, "needs the crawl");
  const pages = ["/", "/zh/", ...servicePages(""), ...servicePages("/zh")];
  const bad = [];
  for (const p of pages) {
    const url = new URL(p, server.url).href;
    assert(crawled.pages.has(url), `the crawl did not open ${p}`);
    const out = crawled.links.filter((l) => l.from === p);
    assert(out.length > 5, `${p} has ${out.length} links`);
    for (const l of out) {
      if (!crawled.pages.has(l.to) && !crawled.resources.has(l.to)) bad.push(`${p}: ${l.raw} did not load`);
    }
  }
  // The service pages are reached by links, not only through the sitemap.
  for (const p of [...servicePages(""), ...servicePages("/zh")]) {
    if (!crawled.links.some((l) => new URL(l.to).pathname === p && l.from !== p)) bad.push(`nothing links to ${p}`);
  }
  assertNoProblems(bad, "links of the service pages");
});

// ---------------------------------------------------------------- accessibility

async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => {
      // For contrast, the distinct colour pairs say more than selectors.
      const pairs = new Map();
      for (const n of v.nodes) {
        const d = (n.any[0] || {}).data;
        if (v.id === "color-contrast" && d && d.fgColor) {
          const k = `${d.fgColor} on ${d.bgColor} = ${d.contrastRatio}:1 (needs ${d.expectedContrastRatio})`;
          pairs.set(k, (pairs.get(k) || []).concat(n.target.join(" ")));
        }
      }
      return {
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: pairs.size
          ? [...pairs].map(([k, t]) => `${k} ×${t.length} e.g. ${t[0]}`)
          : v.nodes.slice(0, 3).map((n) => n.target.join(" ") + ` ${n.html.slice(0, 80)}`),
        count: v.nodes.length,
      };
    });
  });
}

test("axe-core finds no serious or critical violation on any page (light and dark)", async () => {
  assert(crawled, "needs the crawl");
  const problems = [];
  const minor = new Map();
  const key = ["/", "/zh/", "/repos/payments/", "/guide/testing/", "/zh/guide/testing/"];
  const jobs = [
    ...[...crawled.pages.keys()].map((u) => ({ url: u, scheme: "light" })),
    ...key.map((p) => ({ url: new URL(p, server.url).href, scheme: "dark" })),
    { url: new URL("/no-such-page/", server.url).href, scheme: "light" },
  ];
  const contexts = {
    light: await browser.newContext({ viewport: DESKTOP, colorScheme: "light" }),
    dark: await browser.newContext({ viewport: DESKTOP, colorScheme: "dark" }),
  };
  await pool(jobs, 3, async ({ url, scheme }) => {
    const page = await contexts[scheme].newPage();
    await page.goto(url, { waitUntil: "load" });
    // Open every collapsed data table so axe checks it too.
    await page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
    for (const v of await axe(page)) {
      const where = `${new URL(url).pathname} (${scheme})`;
      if (v.impact === "serious" || v.impact === "critical") {
        problems.push(`${where}: ${v.impact} ${v.id} — ${v.help} — ${v.count} node(s):\n      ${v.nodes.join("\n      ")}`);
      } else {
        minor.set(v.id, (minor.get(v.id) || 0) + 1);
      }
    }
    await page.close();
  });
  await contexts.light.close();
  await contexts.dark.close();
  console.log(`    ${jobs.length} pages checked; minor/moderate: ${minor.size ? [...minor].map(([k, n]) => `${k} ×${n}`).join(", ") : "none"}`);
  assertNoProblems(problems, "accessibility");
});

// ---------------------------------------------------------------- Chinese dashboards

/**
 * Our English UI strings, read from the theme's English translation file, so
 * the list cannot go stale: each as a whole-text pattern (`{count} changes`
 * matches "4 changes").
 */
function englishStrings() {
  const read = (lang) => {
    const text = fs.readFileSync(path.join(repoRoot, "themes/default/i18n", `${lang}.toml`), "utf8");
    const out = new Map();
    for (const m of text.matchAll(/^([A-Za-z0-9_-]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/gm)) {
      out.set(m[1], JSON.parse(`"${m[2]}"`));
    }
    return out;
  };
  const en = read("en");
  const zh = read("zh");
  assert(en.size > 100, `only ${en.size} strings in en.toml`);
  const escape = (s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  const list = [];
  for (const [key, value] of en) {
    const text = value.trim();
    // Not words: one character, what has no letter or digit outside its placeholders
    // (`{workload}: {image}` would match any text), and what both files spell alike without an English word in it
    // ("DORA", "p90", "FROM {image}"). A Chinese string left in English is still caught.
    const literal = text.replace(/\{[a-z_]+\}/g, "");
    if (
      text.length < 2 ||
      !/[A-Za-z0-9]/.test(literal) ||
      (zh.get(key) === value && !/[a-z]{3,}/.test(literal))
    )
      continue;
    const pattern = text
      .split(/(\{[a-z_]+\})/)
      .map((part) => (/^\{[a-z_]+\}$/.test(part) ? ".+?" : escape(part)))
      .join("");
    list.push({ key, text, re: new RegExp(`^${pattern}[:：]?$`, "i") });
  }
  return list;
}

/** Visible text (text nodes, and alt/placeholder/aria-label/title) outside data, with all <details> open. */
async function visibleTexts(page) {
  return page.evaluate(() => {
    for (const d of document.querySelectorAll("details")) d.open = true;
    // Data: anything marked translate="no" (names, refs, paths), code, and numbers.
    const isData = (el) => !!el.closest('[translate="no"], code, pre, script, style');
    const visible = (el) => {
      if (!el.getClientRects().length) return false;
      const style = getComputedStyle(el);
      return style.visibility !== "hidden" && style.display !== "none";
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue.replace(/\s+/g, " ").trim();
      const el = n.parentElement;
      if (!text || !el || isData(el) || !visible(el)) continue;
      out.push({ text, where: el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? `.${el.className}` : "") });
    }
    for (const el of document.querySelectorAll("[alt], [placeholder], [aria-label], [title]")) {
      if (isData(el)) continue;
      for (const a of ["alt", "placeholder", "aria-label", "title"]) {
        const v = el.getAttribute(a);
        if (v && v.trim()) out.push({ text: v.trim(), where: `${el.tagName.toLowerCase()}[${a}]` });
      }
    }
    return out;
  });
}

/** The English UI strings among a page's visible texts. */
async function englishOn(page, strings) {
  const found = [];
  for (const { text, where } of await visibleTexts(page)) {
    const hit = strings.find((s) => s.re.test(text));
    if (hit) found.push(`${where}: "${text}" (en.toml ${hit.key} = "${hit.text}")`);
  }
  return found;
}

test("every Chinese dashboard page shows none of our English UI strings outside data", async () => {
  const strings = englishStrings();
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  const pages = ["/zh/", "/zh/teams/checkout/", "/zh/repos/payments/", "/zh/repos/web-portal/", ...servicePages("/zh")];
  // A team of CODEOWNERS has services and no repositories: a table, no chart.
  const chartless = new Set(["/zh/teams/acme-payments/"]);
  const found = [];
  for (const p of pages) {
    const response = await page.goto(new URL(p, server.url).href, { waitUntil: "load" });
    assert(response && response.status() === 200, `${p}: HTTP ${response && response.status()}`);
    assert((await page.locator("html").getAttribute("lang")) === "zh", `${p} is not in Chinese`);
    // A page with data: the report's charts and evidence, the overview's table.
    if (chartless.has(p)) assert((await page.locator("table.services-table tbody tr").count()) > 0, `${p} has no services`);
    else assert((await page.locator("svg.chart").count()) > 0, `${p} has no chart`);
    for (const f of await englishOn(page, strings)) found.push(`${p}: ${f}`);
  }
  // The check itself finds English where it is: on the English report.
  await page.goto(new URL("/repos/payments/", server.url).href, { waitUntil: "load" });
  const english = await englishOn(page, strings);
  assert(english.length > 50, `the check finds only ${english.length} English strings on the English report`);
  // And on the English monorepo report, among them the words of the services block.
  await page.goto(new URL("/repos/shop/", server.url).href, { waitUntil: "load" });
  const keys = new Set((await englishOn(page, strings)).map((f) => f.match(/en\.toml (\S+) =/)[1]));
  for (const k of ["services", "independence", "cross_service_change_share", "cross_service_detail", "coupled_pairs_detail", "chart_coupling_title"]) {
    assert(keys.has(k), `the check does not find en.toml ${k} on the English monorepo report`);
  }
  await context.close();
  assertNoProblems(problems, "Chinese dashboards");
  assertNoProblems(found, "English UI strings on Chinese dashboard pages");
});

// ---------------------------------------------------------------- screenshots and phone layout

test("screenshots of the overview, a report and a handbook page at desktop and phone widths", async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const problems = [];
  for (const [device, options] of [
    ["desktop", { viewport: DESKTOP }],
    ["phone", { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true }],
  ]) {
    const context = await browser.newContext(options);
    for (const [name, p] of [
      ["overview", "/"],
      ["report", "/repos/payments/"],
      ["handbook", "/guide/testing/"],
      ["handbook-zh", "/zh/guide/testing/"],
      ["overview-zh", "/zh/"],
      ["report-zh", "/zh/repos/payments/"],
      ["monorepo", "/repos/shop/"],
      ["monorepo-zh", "/zh/repos/shop/"],
      ["service", "/repos/shop/services/payments/"],
      ["service-zh", "/zh/repos/shop/services/payments/"],
      ["team-codeowners", "/teams/acme-payments/"],
      ["team-codeowners-zh", "/zh/teams/acme-payments/"],
    ]) {
      const { page, problems: pageProblems } = await watchedPage(context);
      await page.goto(new URL(p, server.url).href, { waitUntil: "load" });
      const file = path.join(ARTIFACTS, `${name}-${device}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert(fs.statSync(file).size > 5000, `${file} is written`);
      // Usable on a phone: the page itself never scrolls sideways (wide tables scroll in their box).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) problems.push(`${p} at ${device} width is ${overflow}px wider than the screen`);
      problems.push(...pageProblems.map((x) => `${p} (${device}): ${x}`));
      await page.close();
    }
    await context.close();
  }
  console.log(`    screenshots in ${path.relative(repoRoot, ARTIFACTS) || ARTIFACTS}`);
  assertNoProblems(problems, "screenshots");
});

// ---------------------------------------------------------------- live reload (last: it edits the site)

test("editing a page reloads it within 2 s; broken front matter shows the overlay; fixing it clears it", async () => {
  const file = path.join(fixture.site, "content", "guide", "testing.md");
  const original = fs.readFileSync(file, "utf8");
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await watchedPage(context);
  const fixedMarker = `Fixed ${Date.now()}`;
  const socket = page.waitForEvent("websocket");
  await page.goto(new URL("/guide/testing/", server.url).href);
  await socket;
  await page.waitForTimeout(300); // let the socket finish its handshake

  try {
    // 1. An edit reloads the open page with the new text.
    const marker = `Edited while open ${Date.now()}`;
    const edited = original.replace("## The idea\n", `## The idea\n\n${marker}.\n`);
    assert(edited !== original, "the page has the paragraph to edit");
    let t0 = Date.now();
    fs.writeFileSync(file, edited);
    await page.getByText(marker).waitFor({ state: "visible", timeout: 2000 }).catch(() => {
      throw new Error(`the new text did not appear within 2 s`);
    });
    console.log(`    reloaded with the new text in ${Date.now() - t0} ms`);

    // 2. Broken front matter: the overlay names the file; the last good page stays underneath.
    const broken = edited.replace(/^title = "([^"]*)"$/m, 'title = "$1');
    assert(broken !== edited, "the front matter can be broken");
    t0 = Date.now();
    fs.writeFileSync(file, broken);
    const overlay = page.locator("#opsmeter-error-overlay");
    await overlay.waitFor({ state: "visible", timeout: 5000 });
    assert((await overlay.getAttribute("role")) === "alert", "the overlay is an alert");
    const text = await overlay.textContent();
    assert(/testing\.md/.test(text), `the overlay names the file: ${text}`);
    assert(/testing\.md:\d+/.test(text), `the overlay gives the line: ${text}`);
    console.log(`    overlay shown in ${Date.now() - t0} ms: ${text.split("\n").slice(2).join(" ").slice(0, 120)}`);
    assert((await page.getByText(marker).count()) === 1, "the last good page stays underneath");
    // A page opened while the build is broken shows the overlay too.
    const { page: late, problems: lateProblems } = await watchedPage(context);
    await late.goto(new URL("/guide/", server.url).href);
    await late.locator("#opsmeter-error-overlay").waitFor({ state: "visible", timeout: 5000 });
    await late.close();
    problems.push(...lateProblems);

    // 3. Fixing it removes the overlay and shows the fixed text.
    t0 = Date.now();
    fs.writeFileSync(file, edited.replace(marker, fixedMarker));
    await page.getByText(fixedMarker).waitFor({ state: "visible", timeout: 5000 });
    await overlay.waitFor({ state: "detached", timeout: 5000 });
    console.log(`    overlay cleared in ${Date.now() - t0} ms`);
  } finally {
    fs.writeFileSync(file, original);
  }
  // The restored page is rebuilt and reloaded before the next test.
  await page.getByText(fixedMarker).waitFor({ state: "detached", timeout: 5000 }).catch(() => {});
  await context.close();
  assertNoProblems(problems, "live reload");
});

test("Ctrl-C stops the server within 5 s; it wrote nothing to disk", async () => {
  const s = server;
  const written = fs.readdirSync(s.workDir);
  assert(
    written.length === 0,
    `the server serves from memory, but wrote into ${s.workDir}: ${JSON.stringify(written)}`,
  );
  const { ms, killed } = await s.stop();
  const left = fs.readdirSync(s.workDir).length > 0;
  fs.rmSync(s.workDir, { recursive: true, force: true });
  assert(!killed, `opsmeter serve was still running ${ms} ms after SIGINT (stderr: ${JSON.stringify(s.stderr().trim().split("\n").slice(-2))}); killed it`);
  assert(!left, `files are left behind in ${s.workDir} after Ctrl-C`);
});

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  assert(fs.existsSync(BIN), `no opsmeter binary at ${BIN}: run cargo build (or set OPSMETER_BIN)`);
  assert(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM)`);
  fixture = buildFixture(repoRoot);
  let passed = 0;
  let failed = 0;
  try {
    server = await startServer(BIN, fixture.site, WINDOW);
    console.log(`fixture ${fixture.site} served at ${server.url}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const only = process.env.ONLY ? new RegExp(process.env.ONLY, "i") : null;
    for (const t of tests) {
      if (only && !only.test(t.name)) continue;
      const t0 = Date.now();
      try {
        await t.fn();
        passed++;
        console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name} (${Date.now() - t0} ms)\n    ${String(e && e.message ? e.message : e).split("\n").join("\n    ")}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL setup\n    ${e && e.stack ? e.stack : e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      const { killed } = await server.stop();
      if (killed) fs.rmSync(server.workDir, { recursive: true, force: true });
    }
    fixture.cleanup();
  }
  console.log(`browser suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
