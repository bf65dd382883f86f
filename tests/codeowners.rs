//! CODEOWNERS read through `RepoFiles` from the three places a repository's
//! files come from — a work tree, the tree of a commit in a bare clone, and a
//! host's listing with blobs read on demand — must give the same owners.

mod common;

use std::collections::HashMap;

use common::{scratch, Repo};
use opsmeter::probes::{FileSource, ListedFile, RepoFiles, SourceKind};
use opsmeter::sources::codeowners::CodeOwners;

const CODEOWNERS: &str = "# Platform owns everything unless a later rule says otherwise.
*                       @acme/platform
/services/payments/     @acme/payments
*.sql                   @acme/dba
/libs/money/            @acme/payments @acme/finance
/services/search/       @acme/search
/services/payments/generated/
";

fn fixture() -> Repo {
    let r = Repo::init(&scratch("codeowners"));
    let files: &[(&str, &str)] = &[
        (".github/CODEOWNERS", CODEOWNERS),
        // Not the file GitHub reads: `.github/` comes first.
        ("CODEOWNERS", "* @someone-else\n"),
        ("README.md", "# shop\n"),
        ("libs/money/lib.rs", "pub struct Money;\n"),
        ("services/payments/api.rs", "fn pay() {}\n"),
        ("services/payments/db/schema.sql", "create table p ();\n"),
        ("services/payments/generated/x.rs", "// generated\n"),
        ("services/search/main.go", "package main\n"),
    ];
    r.commit_files(files, "shop", "2024-03-01T10:00:00Z");
    r
}

/// Each service's owners as `(owner, files)`, then its un-owned files.
fn service_owners(files: &RepoFiles) -> Vec<(Vec<(String, usize)>, usize)> {
    let owners = CodeOwners::find(&files.paths, |p| files.read(p))
        .unwrap()
        .expect("the fixture has a CODEOWNERS file");
    assert_eq!(owners.file, ".github/CODEOWNERS");
    assert!(owners.warnings.is_empty(), "{:?}", owners.warnings);
    let services: [&[&str]; 2] = [
        &["services/payments/**", "libs/money/**"],
        &["services/search/**"],
    ];
    services
        .iter()
        .map(|globs| {
            let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
            let s = owners.owners_of_paths(&globs, &files.paths).unwrap();
            let list = s
                .owners
                .iter()
                .map(|o| (o.owner.to_string(), o.files))
                .collect();
            (list, s.unowned_files)
        })
        .collect()
}

fn expected() -> Vec<(Vec<(String, usize)>, usize)> {
    let o = |n: &str, f: usize| (n.to_string(), f);
    vec![
        // api.rs → payments; schema.sql → dba (`*.sql` comes later); lib.rs →
        // payments and finance; generated/x.rs → un-owned by the last rule.
        (
            vec![
                o("@acme/payments", 2),
                o("@acme/dba", 1),
                o("@acme/finance", 1),
            ],
            1,
        ),
        (vec![o("@acme/search", 1)], 0),
    ]
}

#[test]
fn owners_are_the_same_from_a_work_tree_a_bare_clone_and_a_host_listing() {
    let r = fixture();
    let work_tree = RepoFiles::open(Some(&r.dir), None);
    assert_eq!(work_tree.source.source, SourceKind::WorkTree);
    assert_eq!(service_owners(&work_tree), expected());

    let bare = scratch("codeowners-bare.git");
    let _ = std::fs::remove_dir_all(&bare);
    r.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()], &[]);
    let tree = RepoFiles::open(Some(&bare), None);
    assert_eq!(tree.source.source, SourceKind::Bare);
    assert_eq!(service_owners(&tree), expected());

    // A host's listing: paths and blob ids from `git ls-tree`, blobs read by id.
    let mut listed = Vec::new();
    let mut blobs = HashMap::new();
    for line in r.git(&["ls-tree", "-r", "-l", "HEAD"], &[]).lines() {
        let (meta, path) = line.split_once('\t').unwrap();
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let (blob, size) = (fields[2].to_string(), fields[3].parse().unwrap());
        blobs.insert(blob.clone(), r.git(&["cat-file", "blob", &blob], &[]));
        listed.push(ListedFile {
            path: path.to_string(),
            blob,
            size: Some(size),
        });
    }
    let head = r.head();
    let host = RepoFiles::listed(
        FileSource::host("GitHub", "main", &head),
        listed,
        Box::new(move |id| {
            blobs
                .get(id)
                .map(|b| b.clone().into_bytes())
                .ok_or_else(|| format!("no blob {id}"))
        }),
    );
    assert_eq!(service_owners(&host), expected());
    assert!(host.read_failures().is_empty());
}
