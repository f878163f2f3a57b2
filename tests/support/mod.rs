//! Helpers shared by the integration tests (`mod support;` in each `tests/*.rs`).
//!
//! Each test binary uses only part of these helpers, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod gitrepo;
pub mod integrations;
pub mod isolated;
