//! `fluxgate pre-push`: checks every range a `git push` sends, before it
//! leaves. Git runs the hook with `<remote> <url>` as arguments and one line
//! per pushed ref on standard input: `<local ref> <local sha> <remote ref>
//! <remote sha>`. pre-commit instead sets `PRE_COMMIT_FROM_REF` and
//! `PRE_COMMIT_TO_REF` (and reads standard input itself).

use crate::app::{self, AppError};
use crate::cli::PrePushArgs;
use crate::git::Repo;
use crate::report::Report;

/// One pushed range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub local_ref: String,
    pub head: String,
    /// What the remote has now; `None` for a new branch.
    pub remote: Option<String>,
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.chars().all(|c| c == '0')
}

/// Parses git's pre-push input; deletions (an all-zero local sha) push
/// nothing to check and are left out.
pub fn parse_input(input: &str) -> Result<Vec<Range>, String> {
    input
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [local_ref, local_sha, _remote_ref, remote_sha] = fields[..] else {
                return Some(Err(format!("unexpected pre-push input line `{line}` (expected `<local ref> <local sha> <remote ref> <remote sha>`)")));
            };
            (!is_zero(local_sha)).then(|| {
                Ok(Range {
                    local_ref: local_ref.to_string(),
                    head: local_sha.to_string(),
                    remote: Some(remote_sha.to_string()).filter(|sha| !is_zero(sha)),
                })
            })
        })
        .collect()
}

/// The range pre-commit describes in its environment, if it does.
pub fn pre_commit_range(var: &dyn Fn(&str) -> Option<String>) -> Option<Range> {
    let head = var("PRE_COMMIT_TO_REF").filter(|s| !s.is_empty())?;
    Some(Range {
        local_ref: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| head.clone()),
        remote: var("PRE_COMMIT_FROM_REF").filter(|s| !s.is_empty() && !is_zero(s)),
        head,
    })
}

/// Checks each range; the reports, with the range each is about.
pub fn run(args: &PrePushArgs, ranges: &[Range]) -> Result<Vec<(Range, Report)>, AppError> {
    let repo = Repo::open(&args.check.repo)?;
    let remote = args
        .remote
        .clone()
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok())
        .unwrap_or_else(|| "origin".to_string());
    let mut reports = Vec::new();
    for range in ranges {
        let base = match &range.remote {
            // A remote commit this clone lacks cannot be a base: fall back to
            // the default branch (the push is probably rejected anyway).
            Some(sha) if repo.resolve(sha).is_ok() => sha.clone(),
            _ => repo.default_base_of(&remote)?.0,
        };
        let mut check = args.check.clone();
        check.base = Some(base);
        check.head = Some(range.head.clone());
        reports.push((range.clone(), app::check(&check)?));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn input_lines_deletions_new_branches_and_garbage() {
        let input = format!(
            "refs/heads/feature 1111111111111111111111111111111111111111 refs/heads/feature 2222222222222222222222222222222222222222\n\
             refs/heads/new 3333333333333333333333333333333333333333 refs/heads/new {ZERO}\n\
             (delete) {ZERO} refs/heads/old 4444444444444444444444444444444444444444\n\n"
        );
        let ranges = parse_input(&input).unwrap();
        assert_eq!(ranges.len(), 2);
        assert_eq!(
            ranges[0].remote.as_deref(),
            Some("2222222222222222222222222222222222222222")
        );
        assert_eq!(
            (ranges[1].local_ref.as_str(), ranges[1].remote.as_deref()),
            ("refs/heads/new", None)
        );
        assert!(parse_input("only three fields").is_err());
        assert_eq!(parse_input("").unwrap(), vec![]);
    }

    #[test]
    fn pre_commit_environment() {
        let vars = |name: &str| match name {
            "PRE_COMMIT_TO_REF" => Some("abc".to_string()),
            "PRE_COMMIT_FROM_REF" => Some(ZERO.to_string()),
            _ => None,
        };
        let range = pre_commit_range(&vars).unwrap();
        assert_eq!((range.head.as_str(), range.remote), ("abc", None));
        assert_eq!(pre_commit_range(&|_| None), None);
    }
}
