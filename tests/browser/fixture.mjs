// Builds the fixture site in a temporary folder (outside the repository): the
// repository's bilingual handbook (content/ and the languages of opsmeter.toml)
// plus two small git repositories, generated with fixed identities and dates
// like tests/common/mod.rs does, configured as [[repos]] so the dashboards have data.
import { execFileSync } from "node:child_process";
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
 * Creates the fixture under a new temporary folder; returns { dir, site, cleanup }.
 * `extra` lets a caller add files to the site ({relative path: text}).
 */
export function buildFixture(repoRoot, extra = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsmeter-browser-"));
  const site = path.join(dir, "site");
  fs.mkdirSync(site);
  copyDir(path.join(repoRoot, "content"), path.join(site, "content"));
  payments(path.join(dir, "repos", "payments"));
  webPortal(path.join(dir, "repos", "web-portal"));
  // The repository's own config (title, languages) plus the two repositories.
  const config = fs.readFileSync(path.join(repoRoot, "opsmeter.toml"), "utf8");
  fs.writeFileSync(
    path.join(site, "opsmeter.toml"),
    config +
      '\n[[repos]]\nname = "payments"\npath = "../repos/payments"\n' +
      '\n[[repos]]\nname = "web-portal"\npath = "../repos/web-portal"\n',
  );
  for (const [p, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(site, p)), { recursive: true });
    fs.writeFileSync(path.join(site, p), text);
  }
  return {
    dir,
    site,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
