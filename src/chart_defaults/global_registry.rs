//! A registry set under `global` (`global.imageRegistry: mirror.acme.io`,
//! the usual way to pull a bitnami chart's images through a mirror). The
//! chart decides what it does with it: bitnami's helper puts it before each
//! image's own registry, copies of that helper let the image's own win,
//! most charts ignore it. Checking the image as written when the cluster
//! pulls it from the mirror would be a false "exists"; so the chart's
//! templates are read (see [`super::global_reads`]) and, where they do not
//! tell, the reference stays unresolved.

use super::global_reads::{GlobalRead, GlobalReads};
use crate::finding::Location;
use crate::values_from::merged::Setting;
use crate::yaml::Node;
use std::collections::BTreeMap;

/// A `global` registry the values set: its path below `global` and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    pub path: String,
    pub setting: Setting,
}

impl Global {
    /// `global.imageRegistry` (`mirror.acme.io`, HelmRelease apps/x's
    /// `spec.values`).
    fn describe(&self) -> String {
        format!(
            "`global.{}` (`{}`, {})",
            self.path, self.setting.text, self.setting.from
        )
    }
}

/// The `global` registries in effect: those the release's values set,
/// and (where they set none) those of the chart's own defaults.
pub fn in_effect(
    release: BTreeMap<String, Setting>,
    defaults: BTreeMap<String, String>,
    chart: &str,
    chart_at: &Location,
) -> Vec<Global> {
    let mut globals: Vec<Global> = release
        .into_iter()
        .map(|(path, setting)| Global { path, setting })
        .collect();
    for (path, text) in defaults {
        if globals.iter().all(|g| g.path != path) {
            globals.push(Global {
                path,
                setting: Setting {
                    text,
                    at: chart_at.clone(),
                    from: format!("chart {chart}'s values.yaml"),
                },
            });
        }
    }
    globals
}

/// The settings below `global` (the node) whose key names a registry
/// (`imageRegistry`, `image.registry`), by their path below it.
pub fn registry_settings(global: &Node) -> Vec<(String, &Node)> {
    fn walk<'a>(node: &'a Node, prefix: &str, out: &mut Vec<(String, &'a Node)>) {
        for (key, value) in node.as_mapping().unwrap_or_default() {
            // A dotted key cannot be written as a path; charts use none.
            let Some(key) = key.scalar_text().filter(|k| !k.contains('.')) else {
                continue;
            };
            let path = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            if value.as_mapping().is_some() {
                walk(value, &path, out);
            } else if key.to_ascii_lowercase().ends_with("registry") {
                // `imageRegistry`, `registry`; not `registrySecret`.
                out.push((path, value));
            }
        }
    }
    let mut out = Vec::new();
    walk(global, "", &mut out);
    out
}

/// What the image deploys as once the chart's use of `global` registries
/// is weighed.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// As it is; with a note where a `global` registry was set but is
    /// not read.
    Keep(Option<(Location, String)>),
    /// This reference, and why.
    Becomes(String, (Location, String)),
    /// fluxgate cannot tell: why.
    Unsure(String),
}

/// Weighs the `globals` in effect for an image that, without them,
/// deploys as `own_registry/rest` (or `rest`, without a registry of its
/// own) from chart `chart`, whose templates read `reads`.
pub fn weigh(
    rest: &str,
    own_registry: Option<&str>,
    globals: &[Global],
    reads: &GlobalReads,
    chart: &str,
) -> Outcome {
    let read: Vec<(&Global, GlobalRead)> = globals
        .iter()
        .map(|global| (global, reads.read(&global.path)))
        .filter(|(_, read)| *read != GlobalRead::Ignored)
        .collect();
    let (global, read) = match read.as_slice() {
        [] => {
            return Outcome::Keep(globals.first().map(|global| {
                (
                    global.setting.at.clone(),
                    format!(
                        "{} is not read by chart {chart}'s templates: the image's own registry deploys",
                        global.describe()
                    ),
                )
            }))
        }
        [one] => *one,
        [first, second, ..] => {
            return Outcome::Unsure(format!(
                "chart {chart}'s templates read both {} and {}, and fluxgate cannot tell which one applies to this image",
                first.0.describe(),
                second.0.describe()
            ))
        }
    };
    let registry = global.setting.text.trim_end_matches('/');
    let own = own_registry.map(|r| r.trim_end_matches('/'));
    let why = match (read, own) {
        (_, Some(own)) if own == registry => return Outcome::Keep(None),
        (GlobalRead::GlobalFirst, Some(own)) => format!(
            "registry `{registry}` from {}: chart {chart}'s templates put it before the image's own `{own}`",
            global.describe()
        ),
        (_, Some(own)) => {
            return Outcome::Unsure(format!(
                "chart {chart}'s templates read {} and the image has its own registry `{own}`: which one deploys depends on how they combine them",
                global.describe()
            ))
        }
        (_, None) => format!(
            "registry `{registry}` from {}, which chart {chart}'s templates read; the image has no registry of its own",
            global.describe()
        ),
    };
    Outcome::Becomes(
        format!("{registry}/{rest}"),
        (global.setting.at.clone(), why),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Side, SourceText, Span};

    fn at() -> Location {
        let source = SourceText::new("apps/x.yaml", Side::Head, "global: {}\n".to_string());
        Location::new(&source, Span::new(0, 6))
    }

    fn global(path: &str, text: &str) -> Global {
        Global {
            path: path.to_string(),
            setting: Setting {
                text: text.to_string(),
                at: at(),
                from: "HelmRelease apps/x's `spec.values`".to_string(),
            },
        }
    }

    fn reads(template: &str) -> GlobalReads {
        let mut reads = GlobalReads::default();
        reads.scan(template);
        reads
    }

    const BITNAMI: &str =
        "{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}";

    fn becomes(outcome: Outcome) -> String {
        match outcome {
            Outcome::Becomes(reference, _) => reference,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bitnamis_helper_pulls_from_the_global_registry() {
        let globals = [global("imageRegistry", "mirror.acme.io/hub/")];
        let outcome = weigh(
            "bitnami/postgresql:16.3.0",
            Some("docker.io"),
            &globals,
            &reads(BITNAMI),
            "postgresql 15.2.5",
        );
        assert_eq!(
            becomes(outcome),
            "mirror.acme.io/hub/bitnami/postgresql:16.3.0"
        );
        let outcome = weigh("bitnami/redis:7", None, &globals, &reads(BITNAMI), "redis");
        assert_eq!(becomes(outcome), "mirror.acme.io/hub/bitnami/redis:7");
        let same = [global("imageRegistry", "docker.io")];
        let outcome = weigh("x:1", Some("docker.io"), &same, &reads(BITNAMI), "c");
        assert_eq!(outcome, Outcome::Keep(None));
    }

    #[test]
    fn a_registry_the_templates_never_read_changes_nothing() {
        let globals = [global("image.registry", "mirror.acme.io")];
        let outcome = weigh("x:1", Some("docker.io"), &globals, &reads(BITNAMI), "c");
        let Outcome::Keep(Some((_, note))) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            note.contains("is not read by chart c's templates"),
            "{note}"
        );
    }

    #[test]
    fn other_reads_decide_only_where_the_image_has_no_registry() {
        let globals = [global("imageRegistry", "mirror.acme.io")];
        let other = reads("{{ .Values.image.registry | default .Values.global.imageRegistry }}");
        let outcome = weigh("acme/x:1", None, &globals, &other, "c");
        assert_eq!(becomes(outcome), "mirror.acme.io/acme/x:1");
        let outcome = weigh("acme/x:1", Some("docker.io"), &globals, &other, "c");
        let Outcome::Unsure(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(why.contains("has its own registry `docker.io`"), "{why}");
    }

    #[test]
    fn two_registries_read_cannot_be_weighed() {
        let globals = [
            global("imageRegistry", "a.acme.io"),
            global("image.registry", "b.acme.io"),
        ];
        let both = reads("{{ .Values.global.imageRegistry }}{{ .Values.global.image.registry }}");
        assert!(matches!(
            weigh("x:1", None, &globals, &both, "c"),
            Outcome::Unsure(_)
        ));
    }

    #[test]
    fn the_release_wins_over_the_charts_defaults() {
        let release = BTreeMap::from([(
            "imageRegistry".to_string(),
            global("imageRegistry", "r").setting,
        )]);
        let defaults = BTreeMap::from([
            ("imageRegistry".to_string(), "d".to_string()),
            ("other.registry".to_string(), "o".to_string()),
        ]);
        let globals = in_effect(release, defaults, "c", &at());
        let texts: Vec<(&str, &str)> = globals
            .iter()
            .map(|g| (g.path.as_str(), g.setting.text.as_str()))
            .collect();
        assert_eq!(texts, [("imageRegistry", "r"), ("other.registry", "o")]);
    }
}
