//! fluxgate: a pre-merge guard for GitOps repositories.
//!
//! The pipeline is the layout: git -> load (yaml) -> extract (k8s) ->
//! images -> rules -> report. `app` runs the stages in order.

#[macro_use]
pub mod rules;

pub mod app;
pub mod changes;
pub mod chart_defaults;
pub mod charts;
pub mod ci;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod extract;
pub mod finding;
pub mod fuzzing;
pub mod git;
pub mod helm_path;
pub mod hook;
pub mod image;
pub mod images;
pub mod k8s;
pub mod load;
pub mod output;
pub mod pairs;
pub mod parallel;
pub mod post_render;
pub mod prepush;
pub mod registry;
pub mod report;
pub mod source;
pub mod substitute;
pub mod suppress;
pub mod values_from;
pub mod verify;
pub mod version_range;
pub mod yaml;
