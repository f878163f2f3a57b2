//! Timing external commands: wall time of a spawn-to-exit run, medians of
//! alternating repetitions, and peak RSS from `/usr/bin/time -v`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command to run repeatedly: program, arguments, environment, and the
/// exit codes that mean it ran as intended.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
    pub ok_codes: Vec<i32>,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            ok_codes: vec![0],
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn ok_codes(mut self, codes: &[i32]) -> Cmd {
        self.ok_codes = codes.to_vec();
        self
    }

    fn command(&self, program: &Path, prefix: &[OsString]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(prefix).args(&self.args).env("LC_ALL", "C");
        for key in ["CI", "GITHUB_ACTIONS", "GITLAB_CI"] {
            cmd.env_remove(key);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    fn check(&self, code: Option<i32>, stderr: &[u8]) {
        assert!(
            code.is_some_and(|c| self.ok_codes.contains(&c)),
            "{} {:?} exited with {code:?} (expected one of {:?}):\n{}",
            self.program.display(),
            self.args,
            self.ok_codes,
            String::from_utf8_lossy(stderr)
        );
    }

    /// Runs once with output discarded; the wall time from spawn to exit.
    pub fn time(&self) -> Duration {
        let mut cmd = self.command(&self.program, &[]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        let status = cmd.status().expect("command starts");
        let elapsed = start.elapsed();
        if !status.code().is_some_and(|c| self.ok_codes.contains(&c)) {
            // Run again to show why.
            self.output();
        }
        elapsed
    }

    /// Runs once, returns standard output (panics on an unexpected exit code).
    pub fn output(&self) -> Vec<u8> {
        let out = self
            .command(&self.program, &[])
            .stdin(Stdio::null())
            .output()
            .expect("command starts");
        self.check(out.status.code(), &out.stderr);
        out.stdout
    }

    /// Peak resident set size and CPU time of one run, as `/usr/bin/time -v`
    /// reports them.
    pub fn usage(&self) -> Usage {
        let prefix: Vec<OsString> = vec!["-v".into(), self.program.clone().into()];
        let out = self
            .command(Path::new(TIME), &prefix)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .expect("/usr/bin/time starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        self.check(out.status.code(), &out.stderr);
        let field = |name: &str| -> f64 {
            stderr
                .lines()
                .find_map(|line| line.trim().strip_prefix(name))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("no `{name}` in /usr/bin/time output:\n{stderr}"))
        };
        Usage {
            peak_rss_kib: field("Maximum resident set size (kbytes):") as u64,
            cpu: Duration::from_secs_f64(
                field("User time (seconds):") + field("System time (seconds):"),
            ),
        }
    }
}

/// What one run used.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub peak_rss_kib: u64,
    /// User plus system time.
    pub cpu: Duration,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // GNU time counts CPU in hundredths of a second.
        let cpu = if self.cpu < Duration::from_millis(10) {
            "< 10 ms".to_string()
        } else {
            show(self.cpu)
        };
        write!(f, "{}, {cpu} CPU", show_kib(self.peak_rss_kib))
    }
}

/// GNU time (Debian package `time`), not the shell keyword.
pub const TIME: &str = "/usr/bin/time";

/// The median of some durations (the mean of the middle two for an even count).
pub fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// Runs each of `runs` `reps` times, alternating (`a b c a b c ...`), the
/// `i`-th only while `i`-th limit allows; returns each one's samples.
pub fn alternate(
    runs: &mut [(&mut dyn FnMut() -> Duration, usize)],
    reps: usize,
) -> Vec<Vec<Duration>> {
    let mut samples = vec![Vec::new(); runs.len()];
    for rep in 0..reps {
        for (index, (run, limit)) in runs.iter_mut().enumerate() {
            if rep < *limit {
                samples[index].push(run());
            }
        }
    }
    samples
}

/// `12.3 ms` / `1.23 s`.
pub fn show(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// `1.2 MiB` style for KiB.
pub fn show_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
