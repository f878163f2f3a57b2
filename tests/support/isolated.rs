//! A fluxgate run with an isolated credential environment: no real
//! `~/.docker`, no podman file, credential helpers only from its own `bin/`,
//! and `registry.test` pointed wherever the test says.

use super::gitrepo::{fluxgate, fluxgate_via};
use std::path::{Path, PathBuf};

pub struct Isolated {
    dir: tempfile::TempDir,
}

/// What one run produced.
pub struct Output {
    pub code: i32,
    pub json: serde_json::Value,
    pub stdout: String,
    pub stderr: String,
}

impl Default for Isolated {
    fn default() -> Self {
        Self::new()
    }
}

impl Isolated {
    pub fn new() -> Isolated {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("docker")).expect("docker dir");
        std::fs::create_dir_all(dir.path().join("bin")).expect("bin dir");
        Isolated { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A configuration file sending `registry.test` to `location` (trusting `ca`).
    pub fn config(&self, location: &str, ca: Option<&Path>, extra: &str) -> PathBuf {
        let mut text =
            format!("registries:\n  - prefix: registry.test\n    location: {location}\n");
        if let Some(ca) = ca {
            text.push_str(&format!("    ca_file: {}\n", ca.display()));
        }
        text.push_str(extra);
        let path = self.path("fluxgate.yaml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    pub fn docker_config(&self, json: &str) {
        std::fs::write(self.path("docker/config.json"), json).expect("write docker config");
    }

    /// `fluxgate check --format json --config <config> --repo <repo> <extra>`.
    pub fn run(&self, repo: &Path, config: &Path, extra: &[&str]) -> Output {
        self.run_via(&[], repo, config, extra)
    }

    /// `fluxgate check --format human` (no colour) on `repo`: its standard output.
    pub fn human(&self, repo: &Path, config: &Path) -> String {
        let output = fluxgate()
            .args(["check", "--format", "human", "--repo"])
            .arg(repo)
            .arg("--config")
            .arg(config)
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run fluxgate");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// [`run`](Self::run) started through `wrapper` (e.g. `["unshare", "-rn"]`); `&[]`: directly.
    pub fn run_via(&self, wrapper: &[&str], repo: &Path, config: &Path, extra: &[&str]) -> Output {
        let mut cmd = if wrapper.is_empty() {
            fluxgate()
        } else {
            fluxgate_via(wrapper)
        };
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = cmd
            .args(["check", "--format", "json", "--repo"])
            .arg(repo)
            .arg("--config")
            .arg(config)
            .args(extra)
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("XDG_RUNTIME_DIR", self.path("xdg"))
            .env("HOME", self.dir.path())
            .env("PATH", path)
            .env("RUST_LOG", "trace")
            .env_remove("REGISTRY_AUTH_FILE")
            .output()
            .expect("run fluxgate");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let json = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
        Output {
            code: output.status.code().expect("exit code"),
            json,
            stdout,
            stderr,
        }
    }
}

/// A run in a fresh isolated environment with `registry.test` sent to the
/// plain-HTTP registry at `host`, and a 20 s budget.
pub fn run_against(host: &str, repo: &Path) -> Output {
    let env = Isolated::new();
    let config = env.config(host, None, "");
    env.run(repo, &config, &["--timeout", "20"])
}

/// Each image record as (reference, file, line, status), in report order.
pub fn image_rows(json: &serde_json::Value) -> Vec<(String, String, u64, String)> {
    json["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| {
            let text = |key: &str| i[key].as_str().unwrap_or_default().to_string();
            (
                text("reference"),
                text("file"),
                i["line"].as_u64().unwrap_or_default(),
                text("status"),
            )
        })
        .collect()
}

/// The image whose reference ends with `suffix`.
pub fn image<'a>(json: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    json["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| {
            i["reference"]
                .as_str()
                .unwrap_or_default()
                .ends_with(suffix)
        })
        .unwrap_or_else(|| panic!("no image ending {suffix} in {json:#}"))
}

/// `(rule, line, column)` of every finding.
pub fn findings(json: &serde_json::Value) -> Vec<(String, u64, u64)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}
