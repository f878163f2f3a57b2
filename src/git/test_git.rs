//! The git command line, for tests that build repositories as git does
//! (commits, then packs).

use std::path::Path;
use std::process::Command;

/// Runs `git args` in `dir` (with an identity for commits); its output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}
