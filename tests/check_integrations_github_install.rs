//! The install step of `action.yml` and its build cache key, run for real with
//! a `cargo` stand-in: a build from the action's checkout or the binary
//! restored from the cache; a release binary installed only when it matches
//! the release's SHA256SUMS (served from 127.0.0.1), else built from the tag;
//! a cache key that changes with the sources cargo builds from.
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
mod support;

use fault_server::{Behaviour, FaultServer, Route};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::integrations::{
    copy_tree, executable, read, recorded, root, run_action_step, text, write,
};

/// The environment of the install step: a fake home, runner and action path,
/// and a `cargo` stand-in (recording its arguments, installing a stub
/// fluxgate under `--root`) first on PATH.
struct InstallEnv {
    dir: tempfile::TempDir,
    server_url: String,
}

impl InstallEnv {
    fn new(server_url: &str) -> InstallEnv {
        let dir = tempfile::tempdir().unwrap();
        let stubs = dir.path().join("stubs");
        executable(
            &stubs,
            "cargo",
            &format!(
                "#!/bin/sh\nprintf '%s\\0' \"$@\" >'{}'\nroot=\nprev=\nfor a in \"$@\"; do [ \"$prev\" = --root ] && root=$a; prev=$a; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho fluxgate built-by-cargo\\n' >\"$root/bin/fluxgate\"\nchmod +x \"$root/bin/fluxgate\"\n",
                dir.path().join("cargo-argv").display()
            ),
        );
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("runner/_actions/acme/fluxgate/v1")).unwrap();
        InstallEnv {
            dir,
            server_url: server_url.to_string(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn bin(&self) -> PathBuf {
        self.path("home/.cargo/bin/fluxgate")
    }

    fn action_path(&self) -> String {
        self.path("runner/_actions/acme/fluxgate/v1")
            .to_string_lossy()
            .into_owned()
    }

    fn run(&self, version: &str, cache_hit: &str) -> Output {
        let path = format!(
            "{}:{}",
            self.path("stubs").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let home = self.path("home");
        let github_output = self.path("github_output");
        let action_path = self.action_path();
        run_action_step(
            "install",
            &[("version", version)],
            &[("steps.cache.outputs.cache-hit", cache_hit)],
            &[
                ("PATH", path.as_str()),
                ("HOME", home.to_str().unwrap()),
                ("GITHUB_OUTPUT", github_output.to_str().unwrap()),
                ("GITHUB_ACTION_PATH", action_path.as_str()),
                ("GITHUB_SERVER_URL", self.server_url.as_str()),
                ("GITHUB_REPOSITORY", "someone/gitops"),
                ("RUNNER_OS", "Linux"),
                ("RUNNER_ARCH", "X64"),
            ],
        )
    }

    fn cargo_argv(&self) -> Option<Vec<String>> {
        let record = self.path("cargo-argv");
        record.exists().then(|| recorded(&record))
    }

    fn output_bin(&self) -> String {
        std::fs::read_to_string(self.path("github_output")).unwrap_or_default()
    }
}

#[test]
fn action_install_step_builds_from_the_checkout_or_restores_the_cache() {
    let env = InstallEnv::new("http://127.0.0.1:9");
    let bin = env.bin();

    // Cache miss: cargo builds the action's checkout, locked.
    let output = env.run("", "");
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        env.cargo_argv().unwrap(),
        [
            "install".to_string(),
            "--locked".into(),
            "--force".into(),
            "--root".into(),
            env.path("home/.cargo").to_string_lossy().into_owned(),
            "--path".into(),
            env.action_path(),
        ]
    );
    assert!(
        text(&output).contains("built-by-cargo"),
        "{}",
        text(&output)
    );
    assert_eq!(env.output_bin(), format!("bin={}\n", bin.display()));

    // Cache hit: the restored binary, no build.
    std::fs::remove_file(env.path("cargo-argv")).unwrap();
    std::fs::remove_file(env.path("github_output")).unwrap();
    let output = env.run("", "true");
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("restored from the cache"));
    assert_eq!(env.cargo_argv(), None);
    assert_eq!(env.output_bin(), format!("bin={}\n", bin.display()));
}

#[test]
fn action_cache_key_follows_the_source() {
    // The runner fetches actions without .git: the build cache is keyed on
    // the sources cargo builds from, so any change to them is a new build.
    let dir = tempfile::tempdir().unwrap();
    let action_path = dir.path().join("action");
    copy_tree(&root().join("src"), &action_path.join("src"));
    for file in ["Cargo.toml", "Cargo.lock"] {
        write(&action_path, file, &read(file));
    }
    let github_output = dir.path().join("github_output");
    let key = || {
        let _ = std::fs::remove_file(&github_output);
        let output = run_action_step(
            "source",
            &[],
            &[],
            &[
                ("GITHUB_ACTION_PATH", action_path.to_str().unwrap()),
                ("GITHUB_OUTPUT", github_output.to_str().unwrap()),
            ],
        );
        assert!(output.status.success(), "{}", text(&output));
        let line = std::fs::read_to_string(&github_output).unwrap();
        let key = line.strip_prefix("key=").unwrap().trim().to_string();
        assert_eq!(key.len(), 32, "{line}");
        key
    };
    let first = key();
    assert_eq!(key(), first);
    write(&action_path, "src/main.rs", &(read("src/main.rs") + "\n"));
    let changed = key();
    assert_ne!(changed, first);
    write(&action_path, "Cargo.lock", &(read("Cargo.lock") + "\n"));
    assert_ne!(key(), changed);
}

/// A release tarball holding a stub `fluxgate`, and its sha256.
fn release_tarball(dir: &Path) -> (Vec<u8>, String) {
    let content = dir.join("content");
    executable(
        &content,
        "fluxgate-v0.2.0/fluxgate",
        "#!/bin/sh\necho fluxgate 0.2.0-prebuilt\n",
    );
    let tarball = dir.join("release.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&content)
        .arg("fluxgate-v0.2.0")
        .status()
        .unwrap();
    assert!(status.success());
    let sum = Command::new("sha256sum").arg(&tarball).output().unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    (
        std::fs::read(&tarball).unwrap(),
        sum.split_whitespace().next().unwrap().to_string(),
    )
}

#[test]
fn action_install_step_verifies_release_binaries() {
    let work = tempfile::tempdir().unwrap();
    let (tarball, sha256) = release_tarball(work.path());
    let asset = "fluxgate-v0.2.0-x86_64-unknown-linux-gnu.tar.gz";
    let release = "/acme/fluxgate/releases/download/v0.2.0/";
    let serve = |sums: String| {
        FaultServer::start(vec![
            Route::new(
                "GET",
                &format!("{release}SHA256SUMS"),
                Behaviour::respond(200, &[], sums),
            ),
            Route::new(
                "GET",
                &format!("{release}{asset}"),
                Behaviour::respond(200, &[], tarball.clone()),
            ),
        ])
    };

    // A verified binary is installed; cargo is not needed. The repository
    // comes from the action's path (runner/_actions/OWNER/REPO/REF).
    let server = serve(format!(
        "0000000000000000000000000000000000000000000000000000000000000000  fluxgate-v0.2.0-aarch64-apple-darwin.tar.gz\n{sha256}  {asset}\n"
    ));
    let env = InstallEnv::new(server.url("").trim_end_matches('/'));
    let output = env.run("0.2.0", "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("fluxgate 0.2.0-prebuilt"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains(&sha256));
    assert_eq!(env.cargo_argv(), None);
    assert_eq!(server.count("GET", release), 2);
    drop(server);

    // A checksum that does not match: nothing is installed, the step fails.
    let server = serve(format!("{}  {asset}\n", "1".repeat(64)));
    let env = InstallEnv::new(server.url("").trim_end_matches('/'));
    let output = env.run("v0.2.0", "");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("does not match"),
        "{}",
        text(&output)
    );
    assert!(!env.bin().exists());
    assert_eq!(env.cargo_argv(), None);
    drop(server);

    // A SHA256SUMS without a line for the asset: not installed either.
    let server = serve(format!("{sha256}  some-other-file.tar.gz\n"));
    let env = InstallEnv::new(server.url("").trim_end_matches('/'));
    let output = env.run("v0.2.0", "");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(!env.bin().exists());
    drop(server);

    // No release assets (404): cargo builds that tag from the repository.
    let server = FaultServer::start(vec![]);
    let server_url = server.url("").trim_end_matches('/').to_string();
    let env = InstallEnv::new(&server_url);
    let output = env.run("v0.2.0", "");
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        env.cargo_argv().unwrap(),
        [
            "install".to_string(),
            "--locked".into(),
            "--force".into(),
            "--root".into(),
            env.path("home/.cargo").to_string_lossy().into_owned(),
            "--git".into(),
            format!("{server_url}/acme/fluxgate"),
            "--tag".into(),
            "v0.2.0".into(),
            "fluxgate".into(),
        ]
    );
    assert!(text(&output).contains("built-by-cargo"));

    // Not a release name: refused before any download.
    let output = env.run("v1; rm -rf /", "");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("version:"), "{}", text(&output));
}
