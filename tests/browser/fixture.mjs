// Builds the fixture site in a temporary folder (outside the repository): the
// repository's bilingual handbook (content/ and the languages of opsmeter.toml)
// plus two small git repositories, generated with fixed identities and dates
// like tests/common/mod.rs does, configured as [[repos]] so the dashboards have data.
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

function copyDir(src, dst) {
  fs.cpSync(src, dst, { recursive: true });
}

/**
 * Creates a site under a new temporary folder; returns { dir, site, cleanup }.
 * By default it is the handbook (the repository's content/ and languages) with
 * two generated repositories as [[repos]]. `handbook: false` gives a one-page
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
    config +=
      '\n[[repos]]\nname = "payments"\npath = "../repos/payments"\n' +
      '\n[[repos]]\nname = "web-portal"\npath = "../repos/web-portal"\n' +
      // A team, so the team pages (in every language) are part of the site.
      '\n[[teams]]\nname = "Checkout"\nrepos = ["payments"]\n';
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
