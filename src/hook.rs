//! `fluxgate hook install`: writes a git pre-push hook that runs
//! `fluxgate pre-push`, refusing to replace an existing hook without `--force`.

use crate::git::Repo;
use std::path::{Path, PathBuf};

/// Writes the hook; returns its path.
pub fn install(repo_dir: &Path, force: bool, options: &[String]) -> Result<PathBuf, String> {
    let repo = Repo::open(repo_dir).map_err(|e| e.to_string())?;
    let dir = repo.hooks_dir();
    let path = dir.join("pre-push");
    if path.exists() && !force {
        return Err(format!(
            "{} already exists; pass --force to replace it (or call `fluxgate pre-push \"$@\"` from it)",
            path.display()
        ));
    }
    // The binary that installed the hook runs it: no reliance on PATH inside git.
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the fluxgate binary: {e}"))?;
    let mut command = format!("exec {} pre-push \"$@\"", quote(&exe.to_string_lossy()));
    for option in options {
        command.push(' ');
        command.push_str(&quote(option));
    }
    let script = format!(
        "#!/bin/sh\n# Installed by `fluxgate hook install`: checks what a push sends before it leaves.\n{command}\n"
    );
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(&path, script).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    make_executable(&path)?;
    Ok(path)
}

/// Single-quotes a word for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a b"), "'a b'");
        assert_eq!(super::quote("it's"), r"'it'\''s'");
    }
}
