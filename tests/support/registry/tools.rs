//! External programs the registry harness drives (`docker-registry`, `skopeo`,
//! `htpasswd`, `openssl`, `curl`): finding them on the machine, panicking with
//! the Debian package to install when one is missing, and running them with
//! panics that carry their output.

use std::path::PathBuf;
use std::process::{Command, Output};

/// One external program and the Debian package that ships it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// Executable name, looked up on `PATH` (then in `/usr/sbin`, `/usr/bin`).
    pub bin: &'static str,
    /// Debian package to `apt-get install` when the executable is missing.
    pub package: &'static str,
}

pub const DOCKER_REGISTRY: Tool = Tool {
    bin: "docker-registry",
    package: "docker-registry",
};
pub const SKOPEO: Tool = Tool {
    bin: "skopeo",
    package: "skopeo",
};
pub const HTPASSWD: Tool = Tool {
    bin: "htpasswd",
    package: "apache2-utils",
};
pub const OPENSSL: Tool = Tool {
    bin: "openssl",
    package: "openssl",
};
pub const CURL: Tool = Tool {
    bin: "curl",
    package: "curl",
};

impl Tool {
    /// Absolute path of the executable. Panics (never skips) when it is not
    /// installed, naming the Debian package that provides it.
    pub fn path(self) -> PathBuf {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path_var).collect();
        dirs.extend(
            ["/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from),
        );
        dirs.into_iter()
            .map(|dir| dir.join(self.bin))
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "registry test harness: `{bin}` is not installed; \
                     install the Debian package `{pkg}` (apt-get install -y {pkg}), \
                     normally done by .ci/run",
                    bin = self.bin,
                    pkg = self.package
                )
            })
    }

    /// A `Command` for this tool with a clean, predictable locale.
    pub fn command(self) -> Command {
        let mut cmd = Command::new(self.path());
        cmd.env("LC_ALL", "C");
        cmd
    }
}

/// Runs `cmd` to completion; panics with its stdout/stderr unless it exits 0.
pub fn run(cmd: &mut Command, what: &str) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot run {cmd:?}: {err}"));
    if !output.status.success() {
        panic!(
            "{what}: {cmd:?} failed with {status}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            status = output.status,
            stdout = String::from_utf8_lossy(&output.stdout),
            stderr = String::from_utf8_lossy(&output.stderr),
        );
    }
    output
}
