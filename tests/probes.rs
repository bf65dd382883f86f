//! Acceptance tests for the practice probes (issue 5): one fixture repository
//! per probe family under `tests/fixtures/probes/`, a passing and a failing
//! variant, and the exact finding of every probe of the family — outcome and
//! evidence down to the path, the line and the note. Line numbers are counted
//! by hand in the fixture files. Findings are made as `assess` makes them:
//! `run_all`, then the coverage-report probe.
//!
//! Tests of edge cases a user would hit (the Maven wrapper, `npm run lint`,
//! `terraform -chdir`, supervisord as ENTRYPOINT, `*_FILE` secrets, sidecars)
//! build small repositories in a temporary folder.

use std::path::{Path, PathBuf};

use opsmeter::message::Message;
use opsmeter::probes::patterns::{Catalogue, BUILTIN};
use opsmeter::probes::{coverage, known_ids, run_all, Evidence, Finding, Outcome, RepoFiles};
use opsmeter::sources::coverage::DEFAULT_GLOBS;
use Outcome::{Fail, NotApplicable, Pass, Unknown};

const FIXTURES: [&str; 25] = [
    "ci-pass",
    "ci-fail",
    "testing-pass",
    "testing-fail",
    "delivery-pass",
    "delivery-fail",
    "containers-pass",
    "containers-fail",
    "kubernetes-pass",
    "kubernetes-fail",
    "iac-pass",
    "iac-fail",
    "monitoring-pass",
    "monitoring-fail",
    "security-pass",
    "security-fail",
    "indirection-pass",
    "indirection-fail",
    "deploy-pass",
    "deploy-fail",
    "coverage-config-pass",
    "monitoring-modern-pass",
    "monitoring-words-fail",
    "kubernetes-overlays-pass",
    "kubernetes-overlays-fail",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/probes")
        .join(name)
}

fn builtin() -> Catalogue {
    Catalogue::parse(BUILTIN, "builtin").unwrap()
}

/// Every finding for `files`, as `assess` makes them: the probes of
/// `run_all`, then the coverage-report probe (which needs the parsed reports).
fn findings_for(files: &RepoFiles) -> Vec<Finding> {
    let catalogue = builtin();
    let mut findings = run_all(files, &catalogue);
    let globs: Vec<String> = DEFAULT_GLOBS.iter().map(|g| g.to_string()).collect();
    let (reports, problems) = coverage::collect(files, &globs, &[]);
    assert!(problems.is_empty(), "{problems:?}");
    findings.push(coverage::run(files, &reports));
    findings
}

/// Every finding for the repository at `root`.
fn probe_dir(root: &Path) -> Vec<Finding> {
    findings_for(&RepoFiles::scan(root))
}

/// Every finding for a fixture repository.
fn probe(name: &str) -> Vec<Finding> {
    probe_dir(&fixture(name))
}

/// Every finding for a repository holding just `files` (path, text).
fn probe_files(files: &[(&str, &str)]) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    probe_dir(dir.path())
}

/// The outcome and evidence of probe `id`, which must report exactly once.
fn ev(findings: &[Finding], id: &str) -> (Outcome, Vec<Evidence>) {
    let found: Vec<&Finding> = findings.iter().filter(|f| f.probe == id).collect();
    assert_eq!(found.len(), 1, "probe {id} reports once");
    (found[0].outcome, shown(&found[0].evidence))
}

/// Evidence as `assess --json` shows it: each note as its English text.
fn shown(evidence: &[Evidence]) -> Vec<Evidence> {
    evidence
        .iter()
        .map(|e| Evidence {
            note: Message::text(e.note.english()),
            ..e.clone()
        })
        .collect()
}

/// Where each piece of evidence points.
fn locations(evidence: &[Evidence]) -> Vec<(Option<&str>, Option<usize>)> {
    evidence
        .iter()
        .map(|e| (e.path.as_deref(), e.line))
        .collect()
}

fn at(path: &str, line: usize, note: &str) -> Evidence {
    Evidence::at(path, line, Message::text(note))
}

fn file(path: &str, note: &str) -> Evidence {
    Evidence::file(path, Message::text(note))
}

fn note(note: &str) -> Evidence {
    Evidence::note(Message::text(note))
}

/// A pattern probe's evidence: the first matching line of a file.
fn matches(path: &str, line: usize, matched: &str) -> Evidence {
    at(path, line, &format!("matches `{matched}`"))
}

/// A file-presence probe's evidence.
fn present(path: &str) -> Evidence {
    file(path, "present")
}

// ---------------------------------------------------------------- ci

#[test]
fn ci_pass_github_actions_lint_and_test_every_pull_request() {
    let findings = probe("ci-pass");
    let ci = ".github/workflows/ci.yml";
    let nightly = ".github/workflows/nightly.yml";
    assert_eq!(
        ev(&findings, "ci.config-present"),
        (Pass, vec![present(ci), present(nightly)])
    );
    assert_eq!(
        ev(&findings, "ci.tests-run"),
        (
            Pass,
            vec![
                matches(ci, 15, "cargo test"),
                matches(nightly, 12, "cargo test"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "ci.static-analysis"),
        (Pass, vec![matches(ci, 13, "cargo fmt")])
    );
    assert_eq!(
        ev(&findings, "ci.pull-request-builds"),
        (Pass, vec![matches(ci, 6, "pull_request")])
    );
}

#[test]
fn ci_fail_jenkins_packages_with_tests_skipped_no_lint_and_no_pull_requests() {
    let findings = probe("ci-fail");
    assert_eq!(
        ev(&findings, "ci.config-present"),
        (Pass, vec![present("Jenkinsfile")])
    );
    for id in [
        "ci.tests-run",
        "ci.static-analysis",
        "ci.pull-request-builds",
    ] {
        assert_eq!(
            ev(&findings, id),
            (Fail, vec![note("no match in Jenkinsfile")]),
            "{id}"
        );
    }
}

#[test]
fn ci_probes_read_a_gitlab_pipeline() {
    let findings = probe("delivery-pass");
    let gitlab = ".gitlab-ci.yml";
    assert_eq!(
        ev(&findings, "ci.config-present"),
        (Pass, vec![present(gitlab)])
    );
    assert_eq!(
        ev(&findings, "ci.tests-run"),
        (Pass, vec![matches(gitlab, 26, "npm test")])
    );
    assert_eq!(
        ev(&findings, "ci.static-analysis"),
        (Pass, vec![matches(gitlab, 25, "eslint")])
    );
    assert_eq!(
        ev(&findings, "ci.pull-request-builds"),
        (Pass, vec![matches(gitlab, 8, "merge_request_event")])
    );
}

#[test]
fn ci_tests_run_recognises_the_maven_wrapper() {
    let findings = probe_files(&[(
        ".github/workflows/ci.yml",
        "name: CI\n\
         on: [push, pull_request]\n\
         jobs:\n\
         \x20 build:\n\
         \x20   runs-on: ubuntu-latest\n\
         \x20   steps:\n\
         \x20     - uses: actions/checkout@v4\n\
         \x20     - run: ./mvnw -B verify\n",
    )]);
    let (outcome, evidence) = ev(&findings, "ci.tests-run");
    assert_eq!(outcome, Pass);
    assert_eq!(
        locations(&evidence),
        [(Some(".github/workflows/ci.yml"), Some(8))]
    );
}

#[test]
fn ci_static_analysis_recognises_npm_run_lint() {
    let findings = probe_files(&[(
        ".github/workflows/ci.yml",
        "name: CI\n\
         on: [push, pull_request]\n\
         jobs:\n\
         \x20 build:\n\
         \x20   runs-on: ubuntu-latest\n\
         \x20   steps:\n\
         \x20     - uses: actions/checkout@v4\n\
         \x20     - run: npm ci\n\
         \x20     - run: npm run lint\n\
         \x20     - run: npm test\n",
    )]);
    let (outcome, evidence) = ev(&findings, "ci.static-analysis");
    assert_eq!(outcome, Pass);
    assert_eq!(
        locations(&evidence),
        [(Some(".github/workflows/ci.yml"), Some(9))]
    );
}

// ---------------------------------------------------------------- testing

#[test]
fn testing_pass_lists_the_first_five_test_files() {
    let findings = probe("testing-pass");
    // web/src/checkout.test.ts is the sixth test file: evidence stops at five.
    assert_eq!(
        ev(&findings, "testing.test-code-present"),
        (
            Pass,
            vec![
                present("api/tests/__init__.py"),
                present("api/tests/conftest.py"),
                present("api/tests/test_cart.py"),
                present("api/tests/test_orders.py"),
                present("web/src/cart.test.ts"),
            ]
        )
    );
}

#[test]
fn testing_pass_coverage_is_measured_in_the_pipeline() {
    let findings = probe("testing-pass");
    assert_eq!(
        ev(&findings, "testing.coverage-report"),
        (
            Pass,
            vec![at(
                ".github/workflows/tests.yml",
                17,
                "the pipeline measures coverage (`--cov`)"
            )]
        )
    );
}

#[test]
fn testing_fail_testdata_is_not_test_code() {
    let findings = probe("testing-fail");
    assert_eq!(
        ev(&findings, "testing.test-code-present"),
        (Fail, vec![note("no matching files")])
    );
    assert_eq!(
        ev(&findings, "testing.coverage-report"),
        (
            Fail,
            vec![note(
                "no coverage report in the tree, no coverage tool in the pipeline and none configured"
            )]
        )
    );
}

// ---------------------------------------------------------------- delivery

#[test]
fn delivery_pass_gitlab_deploy_job_flux_helm_flagger_and_codedeploy() {
    let findings = probe("delivery-pass");
    assert_eq!(
        ev(&findings, "delivery.deploy-job"),
        // The command (line 35) shows the deployment better than the job's name (line 28).
        (Pass, vec![matches(".gitlab-ci.yml", 35, "aws deploy")])
    );
    assert_eq!(
        ev(&findings, "delivery.environments"),
        (Pass, vec![matches(".gitlab-ci.yml", 31, "environment:")])
    );
    assert_eq!(
        ev(&findings, "delivery.codedeploy-appspec"),
        (Pass, vec![present("worker/appspec.yml")])
    );
    assert_eq!(
        ev(&findings, "delivery.helm-kustomize"),
        (
            Pass,
            vec![
                present("chart/Chart.yaml"),
                present("deploy/production/kustomization.yaml"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "delivery.gitops"),
        (
            Pass,
            vec![
                matches(
                    "deploy/flux/shop.yaml",
                    1,
                    "apiVersion: source.toolkit.fluxcd.io"
                ),
                matches(
                    "deploy/production/release.yaml",
                    1,
                    "apiVersion: helm.toolkit.fluxcd.io"
                ),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "delivery.progressive"),
        (
            Pass,
            vec![matches("deploy/production/canary.yaml", 2, "kind: Canary")]
        )
    );
}

#[test]
fn delivery_fail_builds_in_ci_and_deploys_by_hand() {
    let findings = probe("delivery-fail");
    for id in ["delivery.deploy-job", "delivery.environments"] {
        assert_eq!(
            ev(&findings, id),
            (Fail, vec![note("no match in .github/workflows/ci.yml")]),
            "{id}"
        );
    }
    for id in ["delivery.codedeploy-appspec", "delivery.helm-kustomize"] {
        assert_eq!(
            ev(&findings, id),
            (Fail, vec![note("no matching files")]),
            "{id}"
        );
    }
    assert_eq!(
        ev(&findings, "delivery.gitops"),
        (
            Fail,
            vec![note(
                "no match in .github/workflows/ci.yml, k8s/deployment.yaml, k8s/service.yaml"
            )]
        )
    );
    // Six candidate files; the note names the first five (tsconfig.json is left out).
    assert_eq!(
        ev(&findings, "delivery.progressive"),
        (
            Fail,
            vec![note(
                "no match in .github/workflows/ci.yml, k8s/deployment.yaml, k8s/service.yaml, \
                 package-lock.json, package.json"
            )]
        )
    );
}

#[test]
fn delivery_gitops_is_not_an_argo_rollout() {
    let findings = probe_files(&[(
        "k8s/rollout.yaml",
        "apiVersion: argoproj.io/v1alpha1\n\
         kind: Rollout\n\
         metadata:\n\
         \x20 name: web\n\
         spec:\n\
         \x20 strategy:\n\
         \x20   canary:\n\
         \x20     steps:\n\
         \x20       - setWeight: 20\n\
         \x20       - pause: {duration: 10m}\n",
    )]);
    assert_eq!(
        ev(&findings, "delivery.progressive"),
        (Pass, vec![matches("k8s/rollout.yaml", 2, "kind: Rollout")])
    );
    assert_eq!(
        ev(&findings, "delivery.gitops"),
        (Fail, vec![note("no match in k8s/rollout.yaml")])
    );
}

// ---------------------------------------------------------------- containers

#[test]
fn containers_pass_multi_stage_pinned_non_root_with_healthchecks() {
    let findings = probe("containers-pass");
    let (app, worker) = ("Dockerfile", "worker/Dockerfile");
    assert_eq!(
        ev(&findings, "containers.base-image-pinned"),
        (
            Pass,
            vec![
                at(app, 2, "FROM node:20.15.1-alpine3.20"),
                at(
                    app,
                    10,
                    "FROM node:20.15.1-alpine3.20@sha256:\
                     545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446"
                ),
                // `--platform=…` is not the image; `FROM scratch` is not checked.
                at(worker, 1, "FROM golang:1.22.5-alpine3.20"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "containers.non-root-user"),
        (
            Pass,
            vec![at(app, 16, "USER node"), at(worker, 13, "USER 65532:65532")]
        )
    );
    assert_eq!(
        ev(&findings, "containers.multi-stage"),
        (
            Pass,
            vec![at(app, 10, "2 stages"), at(worker, 11, "2 stages")]
        )
    );
    assert_eq!(
        ev(&findings, "containers.no-credentials"),
        (
            Pass,
            vec![
                file(app, "no credential-like ENV or ARG"),
                file(worker, "no credential-like ENV or ARG"),
            ]
        )
    );
    // The HEALTHCHECK of the app spans lines 18-19: evidence is its first line.
    assert_eq!(
        ev(&findings, "containers.healthcheck"),
        (
            Pass,
            vec![at(app, 18, "HEALTHCHECK"), at(worker, 14, "HEALTHCHECK")]
        )
    );
    assert_eq!(
        ev(&findings, "containers.single-process"),
        (Pass, vec![at(app, 20, "CMD"), at(worker, 15, "ENTRYPOINT")])
    );
}

#[test]
fn containers_fail_evidence_comes_from_the_failing_dockerfiles_only() {
    let findings = probe("containers-fail");
    // docs/Dockerfile passes every probe, so it never appears below.
    let (app, legacy) = ("Dockerfile", "legacy/Dockerfile");
    assert_eq!(
        ev(&findings, "containers.base-image-pinned"),
        (
            Fail,
            vec![
                at(app, 1, "FROM node:latest is not pinned to a version"),
                at(legacy, 1, "FROM python is not pinned to a version"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "containers.non-root-user"),
        (
            Fail,
            vec![
                file(
                    app,
                    "no USER in the final stage: the container runs as root"
                ),
                at(legacy, 3, "USER root is root"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "containers.multi-stage"),
        (
            Fail,
            vec![file(app, "a single stage"), file(legacy, "a single stage")]
        )
    );
    assert_eq!(
        ev(&findings, "containers.no-credentials"),
        (
            Fail,
            vec![
                at(app, 2, "ENV DB_PASSWORD looks like a credential"),
                at(app, 3, "ARG NPM_TOKEN looks like a credential"),
                at(legacy, 2, "ENV API_KEY looks like a credential"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "containers.healthcheck"),
        (
            Fail,
            vec![
                file(app, "no HEALTHCHECK in the final stage"),
                at(legacy, 7, "HEALTHCHECK NONE"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "containers.single-process"),
        (
            Fail,
            vec![
                at(app, 11, "CMD starts several processes"),
                at(legacy, 8, "CMD starts several processes"),
            ]
        )
    );
}

#[test]
fn containers_single_process_is_unknown_when_cmd_is_inherited() {
    let findings = probe_files(&[
        (
            "Dockerfile",
            "FROM example/base:2024.07\nUSER app\nCMD [\"/srv/app\"]\n",
        ),
        (
            "base/Dockerfile",
            "FROM debian:12.6-slim\n\
             RUN useradd --system app\n",
        ),
    ]);
    assert_eq!(
        ev(&findings, "containers.single-process"),
        (
            Unknown,
            vec![file(
                "base/Dockerfile",
                "no CMD or ENTRYPOINT: inherited from the base image"
            )]
        )
    );
}

#[test]
fn containers_single_process_sees_supervisord_entrypoint_with_cmd_arguments() {
    let findings = probe_files(&[(
        "Dockerfile",
        "FROM python:3.12.4-slim\n\
         RUN apt-get update && apt-get install -y --no-install-recommends supervisor\n\
         COPY supervisor/app.conf /etc/supervisor/conf.d/app.conf\n\
         USER 10001\n\
         HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\n\
         ENTRYPOINT [\"/usr/bin/supervisord\"]\n\
         CMD [\"-c\", \"/etc/supervisor/conf.d/app.conf\"]\n",
    )]);
    assert_eq!(
        ev(&findings, "containers.single-process"),
        (
            Fail,
            vec![at("Dockerfile", 6, "ENTRYPOINT starts several processes")]
        )
    );
}

#[test]
fn containers_no_credentials_accepts_paths_to_secret_files() {
    let findings = probe_files(&[(
        "Dockerfile",
        "FROM postgres:16.3\n\
         ENV POSTGRES_USER=orders \\\n\
         \x20   POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password\n",
    )]);
    assert_eq!(
        ev(&findings, "containers.no-credentials"),
        (
            Pass,
            vec![file("Dockerfile", "no credential-like ENV or ARG")]
        )
    );
}

// ---------------------------------------------------------------- kubernetes

#[test]
fn kubernetes_pass_deployment_and_statefulset_meet_every_probe() {
    let findings = probe("kubernetes-pass");
    let (api, pg) = ("k8s/api.yaml", "k8s/postgres.yaml");
    assert_eq!(
        ev(&findings, "kubernetes.probes"),
        (
            Pass,
            vec![
                at(api, 2, "Deployment api: liveness and readiness probes"),
                at(pg, 2, "StatefulSet postgres: liveness and readiness probes"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.resources"),
        (
            Pass,
            vec![
                at(api, 2, "Deployment api: requests and limits"),
                at(pg, 2, "StatefulSet postgres: requests and limits"),
            ]
        )
    );
    // Pod-level securityContext for the api, container-level for postgres.
    assert_eq!(
        ev(&findings, "kubernetes.run-as-non-root"),
        (
            Pass,
            vec![
                at(api, 18, "Deployment api: runAsNonRoot: true"),
                at(pg, 20, "StatefulSet postgres: runAsNonRoot: true"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.pinned-images"),
        (
            Pass,
            vec![
                at(api, 22, "Deployment api: ghcr.io/example/api:1.4.2"),
                at(
                    pg,
                    18,
                    "StatefulSet postgres: postgres:16.3@sha256:\
                     a942b37ccfaf5a813b1432caa209a43b9d144e47ad0de1549c289c253e556cd5"
                ),
            ]
        )
    );
}

#[test]
fn kubernetes_fail_evidence_names_each_failing_workload() {
    let findings = probe("kubernetes-fail");
    // The `api` Deployment in k8s/web.yaml (second document) passes every probe.
    let (agent, redis, web) = ("k8s/node-agent.yaml", "k8s/redis.yaml", "k8s/web.yaml");
    let (outcome, evidence) = ev(&findings, "kubernetes.probes");
    assert_eq!(outcome, Fail);
    assert_eq!(
        evidence[..2],
        [
            at(agent, 2, "DaemonSet node-agent: no livenessProbe"),
            at(redis, 2, "StatefulSet redis: no readinessProbe"),
        ]
    );
    // The note of the third is asserted in
    // `kubernetes_probes_note_names_both_missing_probes`.
    assert_eq!(locations(&evidence[2..]), [(Some(web), Some(2))]);
    assert_eq!(
        ev(&findings, "kubernetes.resources"),
        (
            Fail,
            vec![
                at(
                    agent,
                    2,
                    "DaemonSet node-agent: missing resource requests or limits"
                ),
                at(
                    redis,
                    2,
                    "StatefulSet redis: missing resource requests or limits"
                ),
                at(
                    web,
                    2,
                    "Deployment web: missing resource requests or limits"
                ),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.run-as-non-root"),
        (
            Fail,
            vec![
                at(agent, 2, "DaemonSet node-agent: no runAsNonRoot: true"),
                at(redis, 2, "StatefulSet redis: no runAsNonRoot: true"),
                at(web, 2, "Deployment web: no runAsNonRoot: true"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.pinned-images"),
        (
            Fail,
            vec![
                at(web, 17, "Deployment web: nginx:latest is not pinned"),
                at(web, 21, "Deployment web: busybox is not pinned"),
            ]
        )
    );
}

#[test]
fn kubernetes_probes_note_names_both_missing_probes() {
    let findings = probe("kubernetes-fail");
    assert_eq!(
        ev(&findings, "kubernetes.probes"),
        (
            Fail,
            vec![
                at(
                    "k8s/node-agent.yaml",
                    2,
                    "DaemonSet node-agent: no livenessProbe"
                ),
                at("k8s/redis.yaml", 2, "StatefulSet redis: no readinessProbe"),
                // Two containers: each is named in the note.
                at(
                    "k8s/web.yaml",
                    2,
                    "Deployment web: container web: no livenessProbe or readinessProbe; \
                     container log-shipper: no livenessProbe or readinessProbe"
                ),
            ]
        )
    );
}

#[test]
fn kubernetes_probes_and_resources_are_required_on_every_container() {
    let findings = probe_files(&[(
        "k8s/orders.yaml",
        "apiVersion: apps/v1\n\
         kind: Deployment\n\
         metadata:\n\
         \x20 name: orders\n\
         spec:\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     securityContext:\n\
         \x20       runAsNonRoot: true\n\
         \x20     containers:\n\
         \x20       - name: orders\n\
         \x20         image: ghcr.io/example/orders:3.0.1\n\
         \x20         readinessProbe:\n\
         \x20           httpGet: {path: /readyz, port: 8080}\n\
         \x20         livenessProbe:\n\
         \x20           httpGet: {path: /healthz, port: 8080}\n\
         \x20         resources:\n\
         \x20           requests: {cpu: 100m, memory: 128Mi}\n\
         \x20           limits: {memory: 256Mi}\n\
         \x20       - name: cloud-sql-proxy\n\
         \x20         image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.4\n\
         \x20         args: [\"--port=5432\", \"example:europe-west1:orders\"]\n",
    )]);
    for id in ["kubernetes.probes", "kubernetes.resources"] {
        let (outcome, evidence) = ev(&findings, id);
        assert_eq!(outcome, Fail, "{id}");
        assert!(
            evidence
                .iter()
                .all(|e| e.path.as_deref() == Some("k8s/orders.yaml")),
            "{id}: {evidence:?}"
        );
    }
}

// ---------------------------------------------------------------- iac

#[test]
fn iac_pass_cloudformation_terraform_cdk_pulumi_validated_by_codebuild() {
    let findings = probe("iac-pass");
    // A JSON template without AWSTemplateFormatVersion is found by its resource types.
    assert_eq!(
        ev(&findings, "iac.cloudformation"),
        (
            Pass,
            vec![
                matches(
                    "cloudformation/bucket.json",
                    5,
                    "\"Type\": \"AWS::S3::Bucket"
                ),
                matches("cloudformation/network.yaml", 1, "AWSTemplateFormatVersion"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "iac.terraform"),
        (
            Pass,
            vec![
                present("terraform/main.tf"),
                present("terraform/variables.tf"),
                present("terraform/versions.tf"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "iac.cdk"),
        (Pass, vec![present("cdk/cdk.json")])
    );
    assert_eq!(
        ev(&findings, "iac.pulumi"),
        (Pass, vec![present("pulumi/Pulumi.yaml")])
    );
    assert_eq!(
        ev(&findings, "iac.validated-in-ci"),
        (Pass, vec![matches("buildspec.yml", 11, "cfn-lint")])
    );
}

#[test]
fn iac_fail_infrastructure_made_by_a_shell_script() {
    let findings = probe("iac-fail");
    assert_eq!(
        ev(&findings, "iac.cloudformation"),
        (
            Fail,
            vec![note(
                "no match in .github/workflows/publish.yml, config/bucket-policy.json, \
                 config/cors.json"
            )]
        )
    );
    for id in ["iac.terraform", "iac.cdk", "iac.pulumi"] {
        assert_eq!(
            ev(&findings, id),
            (Fail, vec![note("no matching files")]),
            "{id}"
        );
    }
    assert_eq!(
        ev(&findings, "iac.validated-in-ci"),
        (
            Fail,
            vec![note("no match in .github/workflows/publish.yml")]
        )
    );
}

#[test]
fn iac_validated_in_ci_recognises_terraform_chdir() {
    let findings = probe_files(&[(
        ".github/workflows/infra.yml",
        "name: Infrastructure\n\
         on:\n\
         \x20 pull_request:\n\
         \x20   paths: [\"infra/**\"]\n\
         jobs:\n\
         \x20 plan:\n\
         \x20   runs-on: ubuntu-latest\n\
         \x20   steps:\n\
         \x20     - uses: actions/checkout@v4\n\
         \x20     - uses: hashicorp/setup-terraform@v3\n\
         \x20     - run: terraform -chdir=infra init -input=false\n\
         \x20     - run: terraform -chdir=infra plan -input=false\n",
    )]);
    let (outcome, evidence) = ev(&findings, "iac.validated-in-ci");
    assert_eq!(outcome, Pass);
    assert_eq!(
        locations(&evidence),
        [(Some(".github/workflows/infra.yml"), Some(12))]
    );
}

// ---------------------------------------------------------------- monitoring

#[test]
fn monitoring_pass_prometheus_alerts_otel_fluent_bit_and_grafana() {
    let findings = probe("monitoring-pass");
    assert_eq!(
        ev(&findings, "monitoring.prometheus"),
        (
            Pass,
            vec![
                matches("k8s/servicemonitor.yaml", 2, "kind: ServiceMonitor"),
                matches("monitoring/prometheus.yml", 12, "scrape_configs:"),
            ]
        )
    );
    // The match ends at the first character of the alert's name.
    assert_eq!(
        ev(&findings, "monitoring.alerting-rules"),
        (
            Pass,
            vec![matches("monitoring/rules/api.yml", 4, "- alert: A")]
        )
    );
    assert_eq!(
        ev(&findings, "monitoring.opentelemetry"),
        (
            Pass,
            vec![
                // A scrape target named `otel-collector` (monitoring/prometheus.yml)
                // is a word, not instrumentation.
                matches("docker-compose.yml", 5, "OTEL_EXPORTER_OTLP_ENDPOINT"),
                matches(
                    "package.json",
                    9,
                    "\"@opentelemetry/auto-instrumentations-node\":"
                ),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "monitoring.logging"),
        (Pass, vec![present("monitoring/fluent-bit.conf")])
    );
    assert_eq!(
        ev(&findings, "monitoring.grafana-dashboards"),
        (
            Pass,
            vec![matches(
                "monitoring/dashboards/api.json",
                6,
                "\"panels\": ["
            )]
        )
    );
}

#[test]
fn monitoring_fail_logs_to_stdout_and_nothing_else() {
    let findings = probe("monitoring-fail");
    assert_eq!(
        ev(&findings, "monitoring.prometheus"),
        (
            Fail,
            vec![note(
                "no match in config/notifications.yml, docker-compose.yml"
            )]
        )
    );
    // config/notifications.yml has an `alert:` key with no rule after it; the
    // JSON file is read for CloudWatch alarms and log groups.
    for id in ["monitoring.alerting-rules", "monitoring.logging"] {
        assert_eq!(
            ev(&findings, id),
            (
                Fail,
                vec![note(
                    "no match in config/notifications.yml, config/settings.json, docker-compose.yml"
                )]
            ),
            "{id}"
        );
    }
    assert_eq!(
        ev(&findings, "monitoring.opentelemetry"),
        (
            Fail,
            vec![note(
                "no match in config/notifications.yml, docker-compose.yml, requirements.txt"
            )]
        )
    );
    assert_eq!(
        ev(&findings, "monitoring.grafana-dashboards"),
        (Fail, vec![note("no match in config/settings.json")])
    );
}

// ---------------------------------------------------------------- security

#[test]
fn security_pass_dependabot_codeowners_policy_and_actions_pinned_by_sha() {
    let findings = probe("security-pass");
    assert_eq!(
        ev(&findings, "security.dependency-updates"),
        (Pass, vec![present(".github/dependabot.yml")])
    );
    assert_eq!(
        ev(&findings, "security.codeowners"),
        (Pass, vec![present(".github/CODEOWNERS")])
    );
    assert_eq!(
        ev(&findings, "security.security-policy"),
        (Pass, vec![present("SECURITY.md")])
    );
    // The local action (./.github/actions/setup) and the docker:// step are not checked;
    // the composite action's own steps are.
    assert_eq!(
        ev(&findings, "security.actions-pinned"),
        (
            Pass,
            vec![
                at(
                    ".github/actions/setup/action.yml",
                    6,
                    "actions/setup-node@16d7db0cade58ea39e455f285a3fdc3d0b9bdb73"
                ),
                at(
                    ".github/workflows/ci.yml",
                    15,
                    "actions/checkout@d5491e7e7124a22dd73fa746ba129c59f9dc6d5d"
                ),
            ]
        )
    );
}

#[test]
fn security_fail_actions_pinned_by_tag_and_dependabot_config_misplaced() {
    let findings = probe("security-fail");
    // dependabot.yml at the root is ignored by GitHub, and by the probe.
    for id in [
        "security.dependency-updates",
        "security.codeowners",
        "security.security-policy",
    ] {
        assert_eq!(
            ev(&findings, id),
            (Fail, vec![note("no matching files")]),
            "{id}"
        );
    }
    // softprops/action-gh-release (line 20) is pinned, so it is not listed.
    let release = ".github/workflows/release.yml";
    assert_eq!(
        ev(&findings, "security.actions-pinned"),
        (
            Fail,
            vec![
                at(release, 11, "actions/checkout@v4 is not pinned by sha"),
                at(release, 12, "actions/setup-node@v4 is not pinned by sha"),
                at(release, 15, "actions/cache@v4 is not pinned by sha"),
                at(
                    release,
                    25,
                    "example/shared-workflows/.github/workflows/notify.yml@main is not pinned by sha"
                ),
            ]
        )
    );
}

// ---------------------------------------------------------------- every probe

#[test]
fn an_empty_repository_fails_what_it_lacks_and_skips_what_does_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let findings = probe_dir(dir.path());
    let outcomes: Vec<(&str, Outcome)> = findings
        .iter()
        .map(|f| (f.probe.as_str(), f.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("ci.config-present", Fail),
            ("ci.tests-run", NotApplicable),
            ("ci.static-analysis", NotApplicable),
            ("ci.pull-request-builds", NotApplicable),
            ("testing.test-code-present", Fail),
            ("delivery.deploy-job", NotApplicable),
            ("delivery.environments", NotApplicable),
            ("delivery.codedeploy-appspec", Fail),
            ("delivery.helm-kustomize", Fail),
            ("delivery.gitops", Fail),
            ("delivery.progressive", Fail),
            ("iac.cloudformation", Fail),
            ("iac.terraform", Fail),
            ("iac.cdk", Fail),
            ("iac.pulumi", Fail),
            ("iac.validated-in-ci", NotApplicable),
            ("monitoring.prometheus", Fail),
            ("monitoring.alerting-rules", Fail),
            ("monitoring.opentelemetry", Fail),
            ("monitoring.logging", Fail),
            ("monitoring.grafana-dashboards", Fail),
            ("security.dependency-updates", Fail),
            ("security.codeowners", Fail),
            ("security.security-policy", Fail),
            ("containers.base-image-pinned", NotApplicable),
            ("containers.non-root-user", NotApplicable),
            ("containers.multi-stage", NotApplicable),
            ("containers.no-credentials", NotApplicable),
            ("containers.healthcheck", NotApplicable),
            ("containers.single-process", NotApplicable),
            ("kubernetes.probes", NotApplicable),
            ("kubernetes.resources", NotApplicable),
            ("kubernetes.run-as-non-root", NotApplicable),
            ("kubernetes.pinned-images", NotApplicable),
            ("security.actions-pinned", NotApplicable),
            ("testing.coverage-report", Fail),
        ]
    );
    for f in &findings {
        let expected = if f.probe.starts_with("containers.") {
            "no Dockerfile"
        } else if f.probe.starts_with("kubernetes.") {
            "no Deployment, StatefulSet or DaemonSet"
        } else if f.probe == "security.actions-pinned" {
            "no third-party actions used"
        } else if f.probe == "testing.coverage-report" {
            "no coverage report in the tree, no coverage tool in the pipeline and none configured"
        } else {
            "no matching files"
        };
        assert_eq!(shown(&f.evidence), [note(expected)], "{}", f.probe);
    }
}

#[test]
fn unreadable_files_make_every_probe_unknown() {
    let reason = "bare repository: no work tree";
    let files = RepoFiles::unavailable(Path::new("/srv/git/shop.git"), Message::text(reason));
    let findings = findings_for(&files);
    let ids: Vec<&str> = findings.iter().map(|f| f.probe.as_str()).collect();
    assert_eq!(ids, file_probe_ids(&builtin()));
    for f in &findings {
        assert_eq!(
            (f.outcome, shown(&f.evidence)),
            (Unknown, vec![note(reason)]),
            "{}",
            f.probe
        );
    }
}

#[test]
fn every_fixture_reports_each_probe_once_with_a_remediation_unless_it_passes() {
    let catalogue = builtin();
    let ids = file_probe_ids(&catalogue);
    for name in FIXTURES {
        let findings = probe(name);
        let reported: Vec<&str> = findings.iter().map(|f| f.probe.as_str()).collect();
        assert_eq!(reported, ids, "{name}");
        for f in &findings {
            assert!(!f.chapter.is_empty(), "{name}: {}", f.probe);
            assert_eq!(
                f.remediation.is_empty(),
                f.outcome == Pass,
                "{name}: {}",
                f.probe
            );
        }
    }
}

#[test]
fn each_family_passes_in_its_pass_fixture_and_fails_in_its_fail_fixture() {
    for family in [
        "ci",
        "testing",
        "delivery",
        "containers",
        "kubernetes",
        "iac",
        "monitoring",
        "security",
    ] {
        let prefix = format!("{family}.");
        for (variant, expected) in [("pass", Pass), ("fail", Fail)] {
            let name = format!("{family}-{variant}");
            let findings = probe(&name);
            let family_findings: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.probe.starts_with(&prefix))
                .collect();
            assert!(!family_findings.is_empty(), "{name}");
            for f in family_findings {
                // ci-fail has a pipeline: only what it does is judged.
                if name == "ci-fail" && f.probe == "ci.config-present" {
                    continue;
                }
                assert_eq!(f.outcome, expected, "{name}: {}", f.probe);
            }
        }
    }
}

/// Every probe that reads files: all known probes but the flow probes, which
/// read facts and the commit graph (tests/flow.rs).
fn file_probe_ids(catalogue: &Catalogue) -> Vec<String> {
    known_ids(catalogue)
        .into_iter()
        .filter(|id| !id.starts_with("flow."))
        .collect()
}

// ---------------------------------------------------------------- one step away (issue 15)

/// Modelled on ripgrep (`${{ env.CARGO }} test`), gin (`make test` whose
/// recipe runs `go test -coverprofile`), express (`npm test` → `jest`), a
/// suite in a script under `.github/`, and terraform-aws-vpc (pre-commit hooks).
#[test]
fn indirection_pass_evidence_names_the_pipeline_line_and_where_it_leads() {
    let findings = probe("indirection-pass");
    let wf = |name: &str| format!(".github/workflows/{name}.yml");
    assert_eq!(
        ev(&findings, "ci.tests-run"),
        (
            Pass,
            vec![
                at(&wf("go"), 12, "matches `go test` via Makefile:7"),
                at(
                    &wf("integration"),
                    9,
                    "matches `python -m pytest` via .github/scripts/run-tests.sh:6"
                ),
                at(
                    &wf("rust"),
                    18,
                    "matches `cargo test` via .github/workflows/rust.yml:8"
                ),
                at(&wf("web"), 10, "matches `jest` via web/package.json:7"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "ci.static-analysis"),
        (
            Pass,
            vec![
                at(&wf("go"), 10, "matches `golangci-lint` via Makefile:11"),
                matches(&wf("infra"), 8, "pre-commit/action"),
                at(&wf("web"), 9, "matches `eslint` via web/package.json:6"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "iac.validated-in-ci"),
        (
            Pass,
            vec![at(
                &wf("infra"),
                8,
                "matches `terraform_fmt` via .pre-commit-config.yaml:5"
            )]
        )
    );
    // The recipe's `echo … > coverage.out` (line 6) is not the evidence.
    assert_eq!(
        ev(&findings, "testing.coverage-report"),
        (
            Pass,
            vec![at(
                &wf("go"),
                12,
                "the pipeline measures coverage (`-covermode` via Makefile:7)"
            )]
        )
    );
}

/// `make checklicense` is not `make check`; a script that only echoes runs
/// nothing; `${{ env.CARGO }} build` builds; `npm run build` is `tsc`.
#[test]
fn indirection_fail_words_and_echoes_are_not_tests() {
    let findings = probe("indirection-fail");
    let looked = "no match in .github/workflows/go.yml, .github/workflows/integration.yml, \
                  .github/workflows/rust.yml, .github/workflows/web.yml";
    for id in ["ci.tests-run", "ci.static-analysis", "iac.validated-in-ci"] {
        assert_eq!(ev(&findings, id), (Fail, vec![note(looked)]), "{id}");
    }
    assert_eq!(
        ev(&findings, "testing.coverage-report").0,
        Fail,
        "no coverage tool one step away"
    );
}

/// Modelled on spring-petclinic's deploy-and-test-cluster workflow (kind),
/// an `on: release` trigger, a `deployment-tests` job and an echo-only `deploy` job.
#[test]
fn deploy_fail_test_clusters_triggers_test_jobs_and_echoes_are_not_deployments() {
    let findings = probe("deploy-fail");
    assert_eq!(
        ev(&findings, "delivery.deploy-job"),
        (
            Fail,
            vec![note(
                "no match in .github/workflows/cluster.yml, .github/workflows/release.yml"
            )]
        )
    );
}

#[test]
fn deploy_pass_a_deploy_script_and_a_release_upload() {
    let findings = probe("deploy-pass");
    assert_eq!(
        ev(&findings, "delivery.deploy-job"),
        (
            Pass,
            vec![
                // The kind job's `kubectl apply` (line 11) is a test.
                at(
                    ".github/workflows/deploy.yml",
                    18,
                    "matches `kubectl --context \"$env\" apply` via scripts/deploy.sh:4"
                ),
                matches(".github/workflows/release.yml", 14, "gh release upload"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "delivery.environments"),
        (
            Pass,
            vec![matches(".github/workflows/deploy.yml", 15, "environment:")]
        )
    );
}

#[test]
fn a_job_named_deploy_counts_when_its_command_is_unknown() {
    let findings = probe_files(&[(
        ".gitlab-ci.yml",
        "stages: [build, ship]\n\
         ship-web:\n\
         \x20 stage: ship\n\
         \x20 script:\n\
         \x20   - ./ops/ship.sh\n\
         production:\n\
         \x20 script:\n\
         \x20   - ./ops/ship.sh --prod\n",
    )]);
    assert_eq!(
        ev(&findings, "delivery.deploy-job"),
        (Pass, vec![matches(".gitlab-ci.yml", 6, "production:")])
    );
}

/// Jest's `collectCoverage` in `jest.config.js`, the pipeline running `npx jest`.
#[test]
fn coverage_config_pass_jest_configuration_measures_coverage() {
    let findings = probe("coverage-config-pass");
    assert_eq!(
        ev(&findings, "testing.coverage-report"),
        (
            Pass,
            vec![at(
                "jest.config.js",
                4,
                "coverage is configured (`collectCoverage: true`)"
            )]
        )
    );
}

#[test]
fn coverage_configured_in_pyproject_pom_and_gradle() {
    for (path, text, line, shown) in [
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\naddopts = \"--cov=x --cov-report=xml\"\n",
            5,
            "--cov",
        ),
        (
            "pom.xml",
            "<project>\n  <build><plugins><plugin>\n    <groupId>org.jacoco</groupId>\n    <artifactId>jacoco-maven-plugin</artifactId>\n  </plugin></plugins></build>\n</project>\n",
            4,
            "<artifactId>jacoco-maven-plugin</artifactId>",
        ),
        (
            "build.gradle.kts",
            "plugins {\n    java\n    jacoco\n}\n",
            3,
            "jacoco",
        ),
    ] {
        let findings = probe_files(&[(path, text)]);
        assert_eq!(
            ev(&findings, "testing.coverage-report"),
            (
                Pass,
                vec![at(path, line, &format!("coverage is configured (`{shown}`)"))]
            ),
            "{path}"
        );
    }
}

/// Modelled on the OpenTelemetry demo: Grafana-provisioned alert rules,
/// Alertmanager, a CloudWatch alarm, a collector with a `logs` pipeline (and
/// its own `telemetry: logs:` settings, line 13, which are not a pipeline),
/// the Go SDK.
#[test]
fn monitoring_modern_pass_grafana_alertmanager_cloudwatch_and_a_collector() {
    let findings = probe("monitoring-modern-pass");
    assert_eq!(
        ev(&findings, "monitoring.alerting-rules"),
        (
            Pass,
            vec![
                matches("alertmanager/alertmanager.yml", 1, "route:"),
                matches(
                    "grafana/provisioning/alerting/cart.yaml",
                    10,
                    "condition: C"
                ),
                matches("infra/alarms.yaml", 4, "AWS::CloudWatch::Alarm"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "monitoring.opentelemetry"),
        (
            Pass,
            vec![
                matches("go.mod", 6, "go.opentelemetry.io/otel"),
                matches("otel/collector.yaml", 1, "receivers:"),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "monitoring.logging"),
        (Pass, vec![matches("otel/collector.yaml", 19, "logs:")])
    );
}

/// "OpenTelemetry" in a CRD's description, a copyright header and a package
/// description; a collector's own log level; an Istio `route:`.
#[test]
fn monitoring_words_fail_mentions_are_not_practices() {
    let findings = probe("monitoring-words-fail");
    let looked = "no match in config/agent.yaml, crds/collector-crd.yaml, \
                  k8s/virtual-service.yaml, package.json";
    for id in [
        "monitoring.alerting-rules",
        "monitoring.opentelemetry",
        "monitoring.logging",
    ] {
        assert_eq!(ev(&findings, id), (Fail, vec![note(looked)]), "{id}");
    }
}

/// Modelled on podinfo's kustomize overlays and Helm chart: patches are not
/// workloads, and a template's settings come from `values.yaml`.
#[test]
fn kubernetes_overlays_pass_patches_are_skipped_and_values_are_read() {
    let findings = probe("kubernetes-overlays-pass");
    let (chart, base) = (
        "Deployment {{ include \"shop.fullname\" . }}",
        "Deployment backend",
    );
    let tpl = "charts/shop/templates/deployment.yaml";
    let base_path = "deploy/base/deployment.yaml";
    assert_eq!(
        ev(&findings, "kubernetes.resources"),
        (
            Pass,
            vec![
                at(tpl, 2, &format!("{chart}: requests and limits")),
                at(base_path, 2, &format!("{base}: requests and limits")),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.run-as-non-root"),
        (
            Pass,
            vec![
                at(
                    "charts/shop/values.yaml",
                    6,
                    &format!("{chart}: runAsNonRoot: true")
                ),
                at(base_path, 9, &format!("{base}: runAsNonRoot: true")),
            ]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.probes").0,
        Pass,
        "the patches (no probes) are not workloads"
    );
}

#[test]
fn kubernetes_overlays_fail_empty_values_leave_the_template_without_settings() {
    let findings = probe("kubernetes-overlays-fail");
    let chart = "Deployment {{ include \"shop.fullname\" . }}";
    let tpl = "charts/shop/templates/deployment.yaml";
    assert_eq!(
        ev(&findings, "kubernetes.resources"),
        (
            Fail,
            vec![at(
                tpl,
                2,
                &format!("{chart}: missing resource requests or limits")
            )]
        )
    );
    assert_eq!(
        ev(&findings, "kubernetes.run-as-non-root"),
        (
            Fail,
            vec![at(tpl, 2, &format!("{chart}: no runAsNonRoot: true"))]
        )
    );
}
