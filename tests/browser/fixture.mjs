// Builds the fixture site in a temporary folder (outside the repository): the
// repository's bilingual handbook (content/ and the languages of opsmeter.toml)
// plus three small git repositories (one a monorepo with services and
// CODEOWNERS), generated with fixed identities and dates like
// tests/common/mod.rs does, configured as [[repos]] so the dashboards have data.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const GIT_ENV = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Ada Lovelace",
  GIT_AUTHOR_EMAIL: "ada@example.org",
  GIT_COMMITTER_NAME: "Ada Lovelace",
  GIT_COMMITTER_EMAIL: "ada@example.org",
};

class Repo {
  constructor(dir) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    this.git(["init", "-q", "-b", "main"]);
  }
  git(args, env = {}) {
    return execFileSync(
      "git",
      ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", ...args],
      { cwd: this.dir, env: { ...process.env, ...GIT_ENV, ...env }, encoding: "utf8" },
    ).trim();
  }
  /** Commits `files` ({path: text}) plus one new file per commit; returns the sha. */
  commit(message, date, { author = "Ada Lovelace", committed = date, files = {} } = {}) {
    const name = `${date} ${message.split("\n")[0]}`.replace(/[^A-Za-z0-9]/g, "_") + ".txt";
    files = { [name]: message, ...files };
    for (const [p, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(this.dir, p)), { recursive: true });
      fs.writeFileSync(path.join(this.dir, p), text);
      this.git(["add", p]);
    }
    this.git(["commit", "-q", "-m", message], {
      GIT_AUTHOR_NAME: author,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: committed,
    });
    return this.git(["rev-parse", "HEAD"]);
  }
  tag(name, rev, date) {
    if (date) this.git(["tag", "-a", "-m", name, name, rev], { GIT_COMMITTER_DATE: date });
    else this.git(["tag", name, rev]);
  }
}

/** "payments": weekly releases over January–February 2024, a bot commit, a revert. */
function payments(dir) {
  const r = new Repo(dir);
  const c1 = r.commit("initial import", "2024-01-02T09:00:00Z", {
    files: {
      ".github/workflows/ci.yml":
        "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n",
      Dockerfile:
        "FROM rust:1.80 AS build\nRUN cargo build --release\nFROM debian:12-slim\nUSER app\nHEALTHCHECK CMD true\nCMD [\"/app\"]\n",
      "src/lib.rs": "pub fn pay() {}\n",
      "tests/pay.rs": "#[test]\nfn pays() {}\n",
      "lcov.info": "TN:\nSF:src/lib.rs\nDA:1,1\nDA:2,1\nDA:3,0\nLF:3\nLH:2\nend_of_record\n",
    },
  });
  r.tag("v1.0.0", c1);
  let feature = null;
  for (let w = 0; w < 8; w++) {
    const day = 8 + 7 * w; // Mondays-ish from 2024-01-08
    const d = new Date(Date.UTC(2024, 0, day, 10));
    const iso = (h) => new Date(d.getTime() + h * 3600e3).toISOString().replace(".000", "");
    const a = r.commit(`feature ${w + 1}: checkout step`, iso(-30));
    if (w === 2) feature = a;
    r.commit(`bump deps ${w + 1}`, iso(-5), { author: "dependabot[bot]" });
    const c = r.commit(`fix: edge case ${w + 1}`, iso(-2));
    r.tag(`v1.${w + 1}.0`, c, iso(0));
  }
  const rev = r.commit(
    `Revert "feature 3: checkout step"\n\nThis reverts commit ${feature.slice(0, 10)}.`,
    "2024-02-27T08:00:00Z",
  );
  r.tag("v1.8.1", rev, "2024-02-27T12:00:00Z");
  r.tag("v2.0.0-rc1", rev);
}

/** "web-portal": a release branch with a backport, a merge, fewer releases. */
function webPortal(dir) {
  const r = new Repo(dir);
  const m1 = r.commit("m1 <script>alert(1)</script>", "2024-01-10T00:00:00Z", {
    files: { "package.json": '{"name":"web","scripts":{"test":"node --test"}}\n' },
  });
  r.tag("v1.0.0", m1, "2024-01-10T00:00:00Z");
  const m2 = r.commit("m2", "2024-01-20T00:00:00Z");
  r.tag("v1.1.0", m2, "2024-01-25T00:00:00Z");
  r.git(["checkout", "-q", "-b", "release-1.0", m1]);
  const r1 = r.commit("r1 backport", "2024-01-22T00:00:00Z");
  r.tag("v1.0.1", r1, "2024-01-23T00:00:00Z");
  r.git(["checkout", "-q", "main"]);
  r.git(["merge", "-q", "--no-ff", "-m", "Merge branch 'release-1.0'", "release-1.0"], {
    GIT_AUTHOR_DATE: "2024-02-06T00:00:00Z",
    GIT_COMMITTER_DATE: "2024-02-06T00:00:00Z",
  });
  const m3 = r.commit("m3", "2024-02-07T00:00:00Z");
  r.tag("v1.2.0", m3, "2024-02-12T00:00:00Z");
  const m4 = r.commit("Revert \"m3\"", "2024-02-14T00:00:00Z");
  r.tag("v1.2.1", m4, "2024-02-15T00:00:00Z");
}

/**
 * "shop": a monorepo modelled on tests/common/mod.rs `monorepo`, a month earlier
 * (inside the suite's window): services under services/, apps/ and cmd/, a
 * shared library (libs/money, in payments and orders), tags of each form
 * (payments-v…, orders/v…, web-v… and the repository's v…), a change touching
 * two services (payments and web), a revert in payments, and a CODEOWNERS
 * file whose broad /services/ rule overrides the narrower orders rule before it.
 */
function shop(dir) {
  const r = new Repo(dir);
  const tag = (name, rev, date) => r.tag(name, rev, date);
  const c0 = r.commit("initial import", "2024-02-01T00:00:00Z", {
    files: {
      "services/payments/main.go": "package main // v1\n",
      "services/payments/Dockerfile": "FROM golang:1.22\nUSER app\n",
      "services/orders/main.go": "package main // v1\n",
      "services/worker/job.go": "package main // v1\n",
      "apps/web/index.ts": "export {}; // v1\n",
      "cmd/cli/main.go": "package main // v1\n",
      "libs/money/money.go": "package money // v1\n",
      "README.md": "# shop\n",
    },
  });
  for (const t of ["payments-v1.0.0", "orders/v1.0.0", "web-v1.0.0", "v1.0.0"]) tag(t, c0);
  const c1 = r.commit("payments: retry card declines", "2024-02-02T00:00:00Z", {
    files: { "services/payments/main.go": "package main // v2\n" },
  });
  r.commit("orders: paginate", "2024-02-03T00:00:00Z", { files: { "services/orders/main.go": "package main // v2\n" } });
  const c3 = r.commit("money: round half to even", "2024-02-04T00:00:00Z", {
    files: { "libs/money/money.go": "package money // v2\n" },
  });
  tag("payments-v1.1.0", c3, "2024-02-05T00:00:00Z");
  r.commit("web: new header", "2024-02-06T00:00:00Z", { files: { "apps/web/index.ts": "export {}; // v2\n" } });
  const c5 = r.commit("payments API and its web client", "2024-02-07T00:00:00Z", {
    files: { "services/payments/api.go": "package main // api\n", "apps/web/client.ts": "export const api = 1;\n" },
  });
  tag("orders/v1.1.0", c5, "2024-02-08T00:00:00Z");
  tag("web-v1.1.0", c5, "2024-02-08T12:00:00Z");
  r.commit("worker: nightly job", "2024-02-09T00:00:00Z", { files: { "services/worker/job.go": "package main // v2\n" } });
  const c7 = r.commit("cli: --verbose", "2024-02-09T06:00:00Z", { files: { "cmd/cli/main.go": "package main // v2\n" } });
  tag("v1.1.0", c7, "2024-02-09T12:00:00Z");
  const c8 = r.commit(
    `Revert "payments: retry card declines"\n\nThis reverts commit ${c1}.`,
    "2024-02-10T00:00:00Z",
    { files: { "services/payments/main.go": "package main // v1\n" } },
  );
  tag("payments-v1.2.0", c8, "2024-02-11T00:00:00Z");
  tag("v1.2.0", c8, "2024-02-11T06:00:00Z");
  // Owners, committed after the last release: it touches no service.
  r.commit("owners", "2024-02-20T00:00:00Z", {
    files: {
      ".github/CODEOWNERS":
        "*                     @acme/platform\n" +
        "/services/orders/     @acme/orders\n" +
        "/services/            @acme/backend\n" +
        "/services/payments/   @acme/payments\n" +
        "/libs/money/          @acme/payments @acme/finance\n" +
        "/apps/web/            @acme/web\n",
    },
  });
}

/** The services of `shop`, as in tests/common/mod.rs MONOREPO_SERVICES. */
const SHOP_SERVICES = `
[[repos.services]]
name = "payments"
paths = ["services/payments/**", "libs/money/**"]
tag_pattern = '^payments-v\\d+\\.\\d+\\.\\d+$'

[[repos.services]]
name = "orders"
paths = ["services/orders/**", "libs/money/**"]
tag_pattern = '^orders/v\\d+\\.\\d+\\.\\d+$'

[[repos.services]]
name = "web"
paths = ["apps/web/**"]
tag_pattern = '^web-v\\d+\\.\\d+\\.\\d+$'

[[repos.services]]
name = "worker"
paths = ["services/worker/**"]

[[repos.services]]
name = "cli"
paths = ["cmd/cli/**"]
`;

function copyDir(src, dst) {
  fs.cpSync(src, dst, { recursive: true });
}

/**
 * Creates a site under a new temporary folder; returns { dir, site, cleanup }.
 * By default it is the handbook (the repository's content/ and languages) with
 * three generated repositories as [[repos]] (the third, "shop", with services). `handbook: false` gives a one-page
 * site instead, `repos: false` leaves the repositories out, and `extra` adds
 * files to the site ({relative path: text}).
 */
export function buildFixture(repoRoot, { handbook = true, repos = true, extra = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsmeter-browser-"));
  const site = path.join(dir, "site");
  fs.mkdirSync(site);
  let config;
  if (handbook) {
    copyDir(path.join(repoRoot, "content"), path.join(site, "content"));
    // An old address of a chapter, so the site has an alias redirect page.
    const testing = path.join(site, "content", "guide", "testing.md");
    fs.writeFileSync(
      testing,
      fs.readFileSync(testing, "utf8").replace(/^\+\+\+\n/, '+++\naliases = ["/handbook/testing/"]\n'),
    );
    // The repository's own config: title, description, languages.
    config = fs.readFileSync(path.join(repoRoot, "opsmeter.toml"), "utf8");
  } else {
    config = 'title = "probe"\n';
    extra = {
      "content/_index.md": '+++\ntitle = "probe"\n+++\n\n[A page](@/page.md)\n',
      "content/page.md": '+++\ntitle = "A page"\n+++\n\nSome text.\n',
      ...extra,
    };
  }
  if (repos) {
    payments(path.join(dir, "repos", "payments"));
    webPortal(path.join(dir, "repos", "web-portal"));
    shop(path.join(dir, "repos", "shop"));
    config +=
      '\n[[repos]]\nname = "payments"\npath = "../repos/payments"\n' +
      '\n[[repos]]\nname = "web-portal"\npath = "../repos/web-portal"\n' +
      // A team, so the team pages (in every language) are part of the site.
      '\n[[teams]]\nname = "Checkout"\nrepos = ["payments"]\n' +
      // The monorepo last: [[repos.services]] belong to the [[repos]] above them.
      '\n[[repos]]\nname = "shop"\npath = "../repos/shop"\nteams_from_codeowners = true\n' +
      SHOP_SERVICES;
  }
  fs.writeFileSync(path.join(site, "opsmeter.toml"), config);
  for (const [p, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(site, p)), { recursive: true });
    fs.writeFileSync(path.join(site, p), text);
  }
  scratch.add(dir);
  return {
    dir,
    site,
    cleanup: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      scratch.delete(dir);
    },
  };
}

// Servers still running when this process ends (a crash, Ctrl-C) are killed with it.
// So are their private TMPDIRs and the fixtures.
const running = new Set();
const scratch = new Set();
process.on("exit", () => {
  for (const child of running) {
    child.kill("SIGKILL");
  }
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => process.exit(130));
}

/**
 * Starts `opsmeter --root SITE serve --port 0 ARGS…` and waits for its
 * "Serving <root> at http://127.0.0.1:PORT/" line. Returns { url, origin, stop }.
 */
export function startServer(bin, site, args = []) {
  // Each server gets a private TMPDIR: it builds and serves from memory, so
  // nothing is written there while it runs or left after it stops.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "opsmeter-browser-tmp-"));
  scratch.add(tmp);
  const child = spawn(bin, ["--root", site, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TMPDIR: tmp },
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  let stderr = "";
  let shown = 0;
  child.stderr.on("data", (d) => {
    stderr += d;
    const end = stderr.lastIndexOf("\n") + 1;
    if (process.env.SERVER_LOG && end > shown) {
      for (const line of stderr.slice(shown, end).trimEnd().split("\n")) process.stderr.write(`[serve] ${line}\n`);
      shown = end;
    }
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`opsmeter serve did not start within 60 s:\n${stderr}`));
    }, 60000);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`opsmeter serve exited (${code ?? signal}) before serving:\n${stderr}`));
    });
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/Serving .* at (http:\/\/[^\s]+\/) /);
      if (!m) return;
      clearTimeout(timer);
      const url = m[1];
      resolve({
        url,
        origin: new URL(url).origin,
        stderr: () => stderr,
        // The server's TMPDIR: it stays empty.
        workDir: tmp,
        /**
         * Ctrl-C (SIGINT), then SIGKILL if it is still running after 5 s.
         * Returns { ms, killed }: how long it took and whether SIGKILL was needed.
         */
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, killed: false };
          const t0 = Date.now();
          child.kill("SIGINT");
          const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 5000))]);
          if (!done) {
            child.kill("SIGKILL");
            await exited;
          }
          return { ms: Date.now() - t0, killed: !done };
        },
      });
    });
  });
}
