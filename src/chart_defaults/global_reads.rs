//! Whether a chart's templates read a `global` registry, and how. Charts
//! differ: bitnami's `common.images.image` puts `global.imageRegistry`
//! before each image's own registry, copies of it let the image's own win,
//! most charts ignore it. fluxgate does not run templates; it reads their
//! text for the reads it can name and says "cannot tell" for the rest.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// `.Values.global.imageRegistry`, `(.global).imageRegistry`,
/// `$.Values.global.image.registry`: the path read under `global`.
static GLOBAL_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bglobal\)?((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").expect("a valid pattern")
});

/// `index .Values.global "imageRegistry"`.
static GLOBAL_INDEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bglobal\)?\s+"([A-Za-z_][A-Za-z0-9_]*)""#).expect("a valid pattern")
});

/// `{{ with .Values.global }}`, `{{ $g := .Values.global }}`: `global`
/// taken whole, its keys then read without naming it.
static GLOBAL_SCOPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\bwith|:?=)\s*\(?\s*\$?\.?(?:Values\.)?global\s*\)?\s*-?\}\}")
        .expect("a valid pattern")
});

/// bitnami's `common.images.image` (and the many charts that copy it):
/// `global.imageRegistry`, when set, wins over the image's own registry.
static GLOBAL_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"default\s+\.imageRoot\.registry\s+\(\s*\(\s*\.global\s*\)\s*\.imageRegistry\s*\)")
        .expect("a valid pattern")
});

/// What the templates of a chart (and of its subcharts) read under
/// `global`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GlobalReads {
    /// Each path read under `global` (`imageRegistry`, `image.registry`),
    /// and how often.
    paths: BTreeMap<String, usize>,
    /// Words of the templates that name a one-key registry setting
    /// (`imageRegistry`), however they are reached: a template may keep
    /// `.Values.global` in a variable first.
    words: BTreeMap<String, usize>,
    /// Copies of bitnami's `default .imageRoot.registry ((.global).imageRegistry)`.
    global_first: usize,
    /// Some template was not read (too large, a broken archive): that
    /// nothing reads a setting is then not known.
    partial: bool,
    /// Some template takes `global` whole into a scope or a variable.
    scoped: bool,
}

/// How the chart treats a `global` registry setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalRead {
    /// No template reads it: the image's own registry deploys.
    Ignored,
    /// The chart ships bitnami's helper: it wins over the image's own.
    GlobalFirst,
    /// Some template reads it in a way fluxgate cannot weigh.
    Unknown,
}

impl GlobalReads {
    /// Takes in the text of one template file.
    pub fn scan(&mut self, template: &str) {
        for found in GLOBAL_PATH.captures_iter(template) {
            let path = found[1].trim_start_matches('.').to_string();
            *self.paths.entry(path).or_default() += 1;
        }
        for found in GLOBAL_INDEX.captures_iter(template) {
            *self.paths.entry(found[1].to_string()).or_default() += 1;
        }
        for word in template
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.to_ascii_lowercase().contains("registry"))
        {
            *self.words.entry(word.to_string()).or_default() += 1;
        }
        self.global_first += GLOBAL_FIRST.find_iter(template).count();
        self.scoped |= GLOBAL_SCOPE.is_match(template);
    }

    /// How the templates treat `global.<key>` (`key`: `imageRegistry`).
    pub fn read(&self, key: &str) -> GlobalRead {
        // A read of the key, of a map above it, or of a key below it.
        let related = |path: &str| {
            path == key
                || key
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.'))
                || path
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        let path_reads: usize = self
            .paths
            .iter()
            .filter(|(path, _)| related(path))
            .map(|(_, count)| count)
            .sum();
        // A one-key setting is also read wherever its name appears; a
        // longer one wherever `global` is taken whole.
        let word_reads = if key.contains('.') {
            usize::from(self.scoped)
        } else {
            self.words.get(key).copied().unwrap_or_default()
        };
        let reads = path_reads.max(word_reads);
        if reads == 0 && !self.partial {
            GlobalRead::Ignored
        } else if reads == 0 {
            GlobalRead::Unknown
        } else if key == "imageRegistry" && self.global_first > 0 {
            // A chart that ships the helper builds its images with it;
            // its other reads (bitnami's `common.errors.insecureImages`)
            // only compare.
            GlobalRead::GlobalFirst
        } else {
            GlobalRead::Unknown
        }
    }

    /// Notes that some template was not read.
    pub fn mark_partial(&mut self) {
        self.partial = true;
    }

    /// Takes in another chart's reads (a subchart's).
    pub fn merge(&mut self, other: GlobalReads) {
        self.partial |= other.partial;
        self.scoped |= other.scoped;
        for (path, count) in other.paths {
            *self.paths.entry(path).or_default() += count;
        }
        for (word, count) in other.words {
            *self.words.entry(word).or_default() += count;
        }
        self.global_first += other.global_first;
    }
}

/// Whether `rest` (a path inside a chart, below its top directory) is a
/// template of the chart or of one of its subcharts.
pub fn is_template(rest: &str) -> bool {
    let mut segments = rest.split('/');
    loop {
        match segments.next() {
            Some("templates") => return segments.next().is_some(),
            Some("charts") => {
                if segments.next().is_none() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BITNAMI: &str = r#"{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $repositoryName := .imageRoot.repository -}}
{{- end -}}"#;

    const OWN_FIRST: &str = r#"{{- define "common.images.image" -}}
{{- $registryName := .imageRoot.registry -}}
{{- if .global }}{{- if .global.imageRegistry }}
{{- $registryName = .global.imageRegistry -}}
{{- end -}}{{- end -}}
{{- if .imageRoot.registry }}{{- $registryName = .imageRoot.registry -}}{{- end -}}
{{- end -}}"#;

    fn reads(templates: &[&str]) -> GlobalReads {
        let mut reads = GlobalReads::default();
        for template in templates {
            reads.scan(template);
        }
        reads
    }

    #[test]
    fn bitnamis_helper_puts_the_global_registry_first() {
        let reads = reads(&[
            BITNAMI,
            r#"image: {{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}"#,
        ]);
        assert_eq!(reads.read("imageRegistry"), GlobalRead::GlobalFirst);
        assert_eq!(reads.read("image.registry"), GlobalRead::Ignored);
        // bitnami's insecure-image check reads it too, to compare only.
        let with_check = super::tests::reads(&[
            BITNAMI,
            "{{- $globalRegistry := ((.context.Values.global).imageRegistry) -}}",
        ]);
        assert_eq!(with_check.read("imageRegistry"), GlobalRead::GlobalFirst);
    }

    #[test]
    fn any_other_read_cannot_be_weighed() {
        assert_eq!(
            reads(&[OWN_FIRST]).read("imageRegistry"),
            GlobalRead::Unknown
        );
        assert_eq!(
            reads(&[r#"{{ index .Values.global "imageRegistry" }}"#]).read("imageRegistry"),
            GlobalRead::Unknown
        );
        // Reached through a variable: only the name is seen.
        assert_eq!(
            reads(&["{{ $g := .Values.global }}{{ $g.imageRegistry }}"]).read("imageRegistry"),
            GlobalRead::Unknown
        );
        let nested = reads(&["{{ with .Values.global.image }}{{ .registry }}{{ end }}"]);
        assert_eq!(nested.read("image.registry"), GlobalRead::Unknown);
        assert_eq!(nested.read("imageRegistry"), GlobalRead::Ignored);
        // `global` taken whole: its keys are read without naming it.
        for scope in [
            "{{- with .Values.global }}{{ .image.registry }}{{ end }}",
            "{{ $g := .Values.global -}}{{ $g.image.registry }}",
            "{{ with $.Values.global }}x{{ end }}",
        ] {
            assert_eq!(
                reads(&[scope]).read("image.registry"),
                GlobalRead::Unknown,
                "{scope}"
            );
        }
        // Passed whole to a helper, which names what it reads.
        let passed = reads(&[r#"{{ include "x" (dict "global" .Values.global) }}"#]);
        assert_eq!(passed.read("image.registry"), GlobalRead::Ignored);
    }

    #[test]
    fn a_chart_that_never_names_it_ignores_it() {
        let reads = reads(&[
            "image: {{ .Values.image.registry }}/{{ .Values.image.repository }}",
            r#"{{- if .Values.global.imagePullSecrets }}x{{ end }}"#,
        ]);
        assert_eq!(reads.read("imageRegistry"), GlobalRead::Ignored);
        assert_eq!(reads.read("image.registry"), GlobalRead::Ignored);
    }

    #[test]
    fn a_subcharts_reads_count() {
        let mut parent = reads(&["{{ .Values.image.repository }}"]);
        parent.merge(reads(&[BITNAMI]));
        assert_eq!(parent.read("imageRegistry"), GlobalRead::GlobalFirst);
        let mut other = reads(&["{{ .Values.image.repository }}"]);
        other.merge(reads(&[OWN_FIRST]));
        assert_eq!(other.read("imageRegistry"), GlobalRead::Unknown);
    }

    #[test]
    fn a_template_not_read_leaves_it_unknown() {
        let mut reads = reads(&["{{ .Values.image.repository }}"]);
        assert_eq!(reads.read("imageRegistry"), GlobalRead::Ignored);
        reads.mark_partial();
        assert_eq!(reads.read("imageRegistry"), GlobalRead::Unknown);
    }

    #[test]
    fn templates_are_found_in_subcharts_too() {
        assert!(is_template("templates/deployment.yaml"));
        assert!(is_template("templates/sub/_helpers.tpl"));
        assert!(is_template("charts/common/templates/_images.tpl"));
        assert!(is_template("charts/a/charts/b/templates/x.yaml"));
        assert!(!is_template("templates"));
        assert!(!is_template("values.yaml"));
        assert!(!is_template("charts/templates"));
        assert!(!is_template("docs/templates/x.md"));
    }
}
