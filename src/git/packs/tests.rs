use super::*;
use crate::git::test_git::git;
use std::path::PathBuf;

/// A repository whose files change a little commit by commit, so the pack
/// holds delta chains (several deep) of trees and blobs.
fn repository_with_history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    for round in 0..30 {
        // One more line changed per round: each version is closest to
        // the next, so the pack chains them.
        let log: String = (0..200)
            .map(|line| match line <= round {
                true => format!("line {line} changed in round {line}\n"),
                false => format!("line {line} as first written, with some words\n"),
            })
            .collect();
        std::fs::write(root.join("history.txt"), log).expect("write");
        for app in 0..6 {
            let app_dir = root.join(format!("apps/app-{app}"));
            std::fs::create_dir_all(&app_dir).expect("mkdir");
            let mut manifest = String::new();
            for line in 0..40 {
                manifest.push_str(&format!(
                    "line-{line}: value-{app}-{}\n",
                    line % (round + 2)
                ));
            }
            std::fs::write(app_dir.join("deploy.yaml"), manifest).expect("write");
            std::fs::write(
                app_dir.join("kustomization.yaml"),
                format!(
                    "resources:\n  - deploy.yaml\nimages:\n  - name: app\n    newTag: v{round}\n"
                ),
            )
            .expect("write");
        }
        std::fs::write(root.join("empty.yaml"), "").expect("write");
        // A large, compressible file whose deltas copy more than 64 KiB.
        std::fs::write(root.join("big.txt"), "x".repeat(200_000 + round)).expect("write");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", &format!("round {round}")]);
    }
    dir
}

fn all_objects(root: &Path) -> Vec<Oid> {
    git(
        root,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname)",
        ],
    )
    .lines()
    .map(|line| Oid::from_str(line).expect("object id"))
    .collect()
}

fn same_as_libgit2(root: &Path) {
    let repo = git2::Repository::open(root).expect("open");
    let odb = repo.odb().expect("odb");
    let mut packs = Packs::open(&root.join(".git/objects"));
    let objects = all_objects(root);
    assert!(objects.len() > 100, "{} objects", objects.len());
    for id in objects {
        let expected = odb.read(id).expect("libgit2 reads it");
        match packs.read(id, usize::MAX) {
            Some(Packed::Object(kind, bytes)) => {
                assert_eq!(kind, expected.kind(), "{id}");
                assert_eq!(&bytes[..], expected.data(), "{id}");
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}

#[test]
fn every_object_of_a_pack_with_offset_deltas_is_read_as_libgit2_reads_it() {
    let dir = repository_with_history();
    git(
        dir.path(),
        &["repack", "-a", "-d", "-f", "-q", "--depth=50"],
    );
    let verify = git(dir.path(), &["verify-pack", "-v", &pack_index(dir.path())]);
    let deepest = verify
        .lines()
        .filter_map(|line| line.strip_prefix("chain length = "))
        .filter_map(|rest| rest.split(':').next()?.parse::<usize>().ok())
        .max();
    assert!(deepest >= Some(10), "deep chains: {deepest:?}");
    same_as_libgit2(dir.path());
}

#[test]
fn every_object_of_a_pack_with_named_deltas_is_read_as_libgit2_reads_it() {
    let dir = repository_with_history();
    git(
        dir.path(),
        &[
            "-c",
            "repack.useDeltaBaseOffset=false",
            "repack",
            "-a",
            "-d",
            "-f",
            "-q",
        ],
    );
    same_as_libgit2(dir.path());
}

fn pack_index(root: &Path) -> String {
    let pack = root.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack)
        .expect("pack dir")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "idx"))
        .expect("an index");
    idx.display().to_string()
}

#[test]
fn an_object_over_the_limit_is_its_size_without_being_built() {
    let dir = repository_with_history();
    git(dir.path(), &["repack", "-a", "-d", "-f", "-q"]);
    let big = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD:big.txt"]).trim()).expect("id");
    let mut packs = Packs::open(&dir.path().join(".git/objects"));
    assert_eq!(packs.read(big, 1000), Some(Packed::TooLarge(200_029)));
    assert!(matches!(
        packs.read(big, 200_029),
        Some(Packed::Object(ObjectType::Blob, _))
    ));
}

#[test]
fn loose_and_unknown_objects_are_left_to_libgit2() {
    let dir = repository_with_history();
    let head = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD"]).trim()).expect("id");
    let mut packs = Packs::open(&dir.path().join(".git/objects"));
    assert_eq!(packs.read(head, usize::MAX), None, "loose: no pack yet");
    git(dir.path(), &["repack", "-a", "-d", "-q"]);
    let mut packs = Packs::open(&dir.path().join(".git/objects"));
    assert!(packs.read(head, usize::MAX).is_some());
    assert_eq!(
        packs.read(Oid::from_bytes(&[7; 20]).expect("id"), usize::MAX),
        None
    );
}

/// Damage anywhere in a pack or its index gives `None` or the right object,
/// never a wrong one, and no panic.
#[test]
fn a_damaged_pack_never_gives_a_wrong_object() {
    let dir = repository_with_history();
    let root = dir.path();
    git(root, &["repack", "-a", "-d", "-f", "-q"]);
    let objects = all_objects(root);
    let truth: HashMap<Oid, Vec<u8>> = {
        let repo = git2::Repository::open(root).expect("open");
        let odb = repo.odb().expect("odb");
        objects
            .iter()
            .map(|&id| (id, odb.read(id).expect("read").data().to_vec()))
            .collect()
    };
    let idx = PathBuf::from(pack_index(root));
    let pack = idx.with_extension("pack");
    let damaged = tempfile::tempdir().expect("temp dir");
    let target = damaged.path().join("pack");
    std::fs::create_dir_all(&target).expect("mkdir");
    let mut given = 0;
    for (file, step) in [(&pack, 211usize), (&idx, 31usize)] {
        let original = std::fs::read(file).expect("read");
        for at in (0..original.len()).step_by(step) {
            let mut bytes = original.clone();
            bytes[at] ^= 0x5a;
            let (damaged_pack, damaged_idx) = if file == &pack {
                (bytes, std::fs::read(&idx).expect("read"))
            } else {
                (std::fs::read(&pack).expect("read"), bytes)
            };
            std::fs::write(target.join("p.pack"), damaged_pack).expect("write");
            std::fs::write(target.join("p.idx"), damaged_idx).expect("write");
            let mut packs = Packs::open(damaged.path());
            for id in objects.iter().step_by(11) {
                if let Some(Packed::Object(_, bytes)) = packs.read(*id, usize::MAX) {
                    given += 1;
                    assert_eq!(
                        &bytes[..],
                        &truth[id][..],
                        "{id} with byte {at} of {file:?} damaged"
                    );
                }
            }
        }
    }
    // Damage in one place leaves the other objects readable.
    assert!(given > 1000, "{given}");
}

#[test]
fn deltas_that_reach_outside_their_base_are_refused() {
    let base = b"0123456789";
    // base size 10, result 4: copy 4 bytes from offset 8 (past the end).
    assert_eq!(apply_delta(base, &[10, 4, 0x91, 8, 4]), None);
    assert_eq!(
        apply_delta(base, &[10, 4, 0x91, 2, 4]),
        Some(b"2345".to_vec())
    );
    // Wrong base size, an insert longer than the delta, a zero opcode.
    assert_eq!(apply_delta(base, &[9, 4, 0x91, 2, 4]), None);
    assert_eq!(apply_delta(base, &[10, 4, 4, b'a']), None);
    assert_eq!(apply_delta(base, &[10, 1, 0]), None);
    // A result shorter or longer than announced.
    assert_eq!(apply_delta(base, &[10, 5, 0x91, 2, 4]), None);
    assert_eq!(apply_delta(base, &[10, 3, 0x91, 2, 4]), None);
}
