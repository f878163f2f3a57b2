//! `image-unverified`: the registry could not say whether the image exists.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// An image whose existence could not be established: the registry
    /// refused the credentials (`unauthorized`), could not be reached
    /// (`unreachable`: DNS, connection, TLS), kept rate-limiting
    /// (`rate-limited`), did not answer in the time budget (`timeout`),
    /// failed (`server-error`), or answered something that is not the
    /// registry protocol (`protocol`).
    ///
    /// ## Why it matters
    /// fluxgate never reports an image as existing unless the registry
    /// confirmed it. A required check fails closed: an image nobody could
    /// verify is not let through silently.
    ///
    /// ## Example
    /// A private repository without credentials on the CI runner, or a
    /// registry behind a firewall.
    ///
    /// ## How to fix
    /// Give the check credentials (`docker login`, a credential helper, or
    /// `REGISTRY_AUTH_FILE`), trust the registry's CA (`ca_file` under
    /// `registries:`), or raise `--timeout`. If you accept the gap, lower this
    /// rule's level in `.fluxgate.yaml`.
    IMAGE_UNVERIFIED { id: "image-unverified", severity: Error, summary: "an image could not be verified in its registry" }
}

pub fn finding(location: Location, reference: &str, cause: &str, detail: &str) -> Finding {
    Finding::new(&IMAGE_UNVERIFIED, location, format!("image `{reference}` could not be verified ({cause}): {detail}"))
        .with_help(match cause {
            "unauthorized" => "give fluxgate credentials for this registry (docker login, a credential helper, or REGISTRY_AUTH_FILE)",
            "unreachable" => "check the registry host, the network, and its TLS trust (`ca_file` under `registries:`)",
            "timeout" => "raise `--timeout`, or lower `--jobs` if the registry throttles",
            _ => "try again; if it persists, check the registry",
        })
}
