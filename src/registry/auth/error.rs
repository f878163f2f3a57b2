//! Why credentials could not be determined.
//!
//! Every variant names the file, key or helper at fault and what is wrong
//! with it, and is built only from things that are not secret: paths, keys,
//! helper names, fixed descriptions, line/column positions and a helper's
//! stderr. File content and helper stdout are never copied in, because that is
//! where the secrets are.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why credentials could not be determined. Never contains secret bytes.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A credentials file exists but cannot be read.
    #[error("cannot read credentials file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (its message holds no file content).
        #[source]
        source: io::Error,
    },
    /// A credentials file is not valid JSON.
    #[error("credentials file {} is not valid JSON: {problem} at line {line} column {column}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's fixed description of the syntax error.
        problem: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// A credentials file is JSON of the wrong shape, e.g. a number where a
    /// string belongs.
    #[error("credentials file {}: {problem}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key (never the value).
        problem: String,
    },
    /// An `auth` value that is not base64 of `user:password`.
    #[error("credentials file {}: auths[{key}].auth {problem}", path.display())]
    InvalidAuth {
        /// The file.
        path: PathBuf,
        /// The `auths` key of the entry.
        key: String,
        /// What is wrong, e.g. "is not valid base64".
        problem: &'static str,
    },
    /// A configured credential helper is not on the search path.
    #[error("credential helper {helper} is not installed (not found in the absolute directories of PATH)")]
    HelperNotFound {
        /// The executable name, e.g. `docker-credential-pass`.
        helper: String,
    },
    /// A configured credential helper name that cannot name an executable.
    #[error("credential helper name {name:?} is invalid: it must be non-empty and contain no path separator")]
    HelperName {
        /// The name as configured (names are not secret).
        name: String,
    },
    /// A credential helper could not be started or talked to.
    #[error("cannot run credential helper {helper}: {source}")]
    HelperIo {
        /// The executable name.
        helper: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A credential helper failed for a reason other than "credentials not found".
    #[error("credential helper {helper} failed ({status}){}", stderr.as_ref().map(|line| format!(": {line}")).unwrap_or_default())]
    HelperFailed {
        /// The executable name.
        helper: String,
        /// How it ended, e.g. "exit status: 2".
        status: String,
        /// First line of its stderr, sanitised and cut to 200 characters
        /// (stdout, which carries secrets, is never shown).
        stderr: Option<String>,
    },
    /// A credential helper did not answer in time.
    #[error("credential helper {helper} did not answer within {} s", timeout.as_secs_f64())]
    HelperTimeout {
        /// The executable name.
        helper: String,
        /// The time it was given.
        timeout: Duration,
    },
    /// A credential helper succeeded but did not print the expected JSON.
    #[error("credential helper {helper} printed {problem} instead of a JSON object with string fields Username and Secret")]
    HelperOutput {
        /// The executable name.
        helper: String,
        /// A fixed description of what came out (never the output itself).
        problem: &'static str,
    },
}
