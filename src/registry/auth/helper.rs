//! Running Docker credential helpers (`docker-credential-<name> get`).
//!
//! The protocol (github.com/docker/docker-credential-helpers): the server URL
//! on stdin, `{"ServerURL","Username","Secret"}` on stdout and exit 0; or a
//! non-zero exit with "credentials not found in native keychain" on stdout
//! when the helper has nothing for that server. stdout carries the secret, so
//! it is parsed but never quoted; only stderr's first line reaches messages.

use super::{AuthError, Credential, Secret};
use serde_json::Value;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::process::{ChildStdin, Command};

/// What every helper executable's name starts with.
pub(super) const PREFIX: &str = "docker-credential-";
/// The Username by which a helper marks its Secret as an identity token.
const TOKEN_USERNAME: &str = "<token>";
/// How much of a helper's stderr line an error may quote.
const STDERR_LIMIT: usize = 200;

/// Asks helper `name` for `server_url`'s credential, finding the executable
/// in `search_path` (`PATH` syntax) and giving it `timeout` to answer.
/// `Ok(None)` means the helper has no credential for that server.
pub(super) async fn get(
    name: &str,
    server_url: &str,
    search_path: &OsStr,
    timeout: Duration,
) -> Result<Option<Credential>, AuthError> {
    // A name with a separator would let a config file point at any program.
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(AuthError::HelperName {
            name: name.to_string(),
        });
    }
    let helper = format!("{PREFIX}{name}");
    let executable =
        find_executable(&helper, search_path).ok_or_else(|| AuthError::HelperNotFound {
            helper: helper.clone(),
        })?;
    let io_error = |source| AuthError::HelperIo {
        helper: helper.clone(),
        source,
    };
    let mut child = spawn(&executable).await.map_err(io_error)?;
    let mut stdin = child.stdin.take();
    let conversation = async move {
        if let Some(stdin) = stdin.as_mut() {
            // A helper may exit without reading stdin; its exit status and
            // output tell what happened, so a broken pipe is not an error here.
            match write_all(stdin, server_url.as_bytes()).await {
                Err(error) if error.kind() != io::ErrorKind::BrokenPipe => return Err(error),
                _ => {}
            }
        }
        drop(stdin);
        child.wait_with_output().await
    };
    // On timeout the conversation future, and with it the child, is dropped;
    // `kill_on_drop` then kills the helper.
    let output = match tokio::time::timeout(timeout, conversation).await {
        Err(_) => return Err(AuthError::HelperTimeout { helper, timeout }),
        Ok(output) => output.map_err(io_error)?,
    };
    if !output.status.success() {
        return failure(helper, output.status, &output.stdout, &output.stderr);
    }
    parse_answer(&helper, &output.stdout)
}

/// Starts `executable get` with all three standard streams piped.
async fn spawn(executable: &Path) -> io::Result<tokio::process::Child> {
    let mut attempt = 0;
    loop {
        let spawned = Command::new(executable)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        match spawned {
            // ETXTBSY: another thread forked while this executable was still
            // open for writing (it was just installed); that clears at once.
            Err(error) if error.kind() == io::ErrorKind::ExecutableFileBusy && attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Writes all of `bytes`. Hand-written because tokio's `AsyncWriteExt` needs
/// the `io-util` feature, which this crate does not ask for.
async fn write_all(stdin: &mut ChildStdin, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let written =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stdin).poll_write(cx, bytes))
                .await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[written..];
    }
    Ok(())
}

/// `program` in the absolute directories of `search_path`. Relative entries
/// (including the empty one, meaning ".") are skipped so that a repository
/// being checked cannot supply a helper from the working directory.
pub(super) fn find_executable(program: &str, search_path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(search_path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A non-zero exit: "credentials not found" means no credential, anything
/// else is an error quoting at most stderr's first line.
fn failure(
    helper: String,
    status: ExitStatus,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<Option<Credential>, AuthError> {
    let not_found = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .to_ascii_lowercase()
            .contains("credentials not found")
    };
    if not_found(stdout) || not_found(stderr) {
        return Ok(None);
    }
    let stderr = String::from_utf8_lossy(stderr);
    let first_line: String = stderr
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(STDERR_LIMIT)
        .collect();
    Err(AuthError::HelperFailed {
        helper,
        status: status.to_string(),
        stderr: Some(first_line).filter(|line| !line.is_empty()),
    })
}

/// The credential in a successful helper's stdout; an empty Secret means none.
fn parse_answer(helper: &str, stdout: &[u8]) -> Result<Option<Credential>, AuthError> {
    let bad = |problem| AuthError::HelperOutput {
        helper: helper.to_string(),
        problem,
    };
    let answer: Value =
        serde_json::from_slice(stdout).map_err(|_| bad("output that is not JSON"))?;
    let Value::Object(answer) = answer else {
        return Err(bad("JSON that is not an object"));
    };
    let text = |name: &str| match answer.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(bad("an object with a non-string field")),
    };
    let (username, secret) = (text("Username")?, text("Secret")?);
    if secret.is_empty() {
        return Ok(None);
    }
    let secret = Secret::new(secret);
    Ok(Some(if username == TOKEN_USERNAME {
        Credential::IdentityToken {
            username,
            token: secret,
        }
    } else {
        Credential::Basic {
            username,
            password: secret,
        }
    }))
}
