//! A chart's default values as its templates see them: its own
//! `values.yaml`, and under each subchart's key (its name, or the alias
//! `Chart.yaml` gives it) that subchart's own `values.yaml` beneath the
//! chart's (Helm lets the parent's values override a subchart's).

use super::archive::ChartFiles;
use super::global_reads::GlobalReads;
use super::global_registry::registry_settings;
use crate::helm_path::{follow, Step};
use crate::k8s::part;
use crate::yaml::{Limits, Node, ParsedYaml};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A chart's default values, parsed.
pub struct Defaults {
    /// What the templates of the chart and its subcharts read under
    /// `global`.
    pub global_reads: GlobalReads,
    own: ParsedYaml,
    /// By the key the chart's values give the subchart.
    subcharts: Vec<(String, Rc<ParsedYaml>)>,
}

impl Defaults {
    /// Parses the files read from a chart; only the chart's own values
    /// must parse (a subchart that does not is left out).
    pub fn parse(mut files: ChartFiles, limits: &Limits) -> Result<Defaults, String> {
        let own = parse_values(files.values, limits)?;
        let aliases = files
            .chart_yaml
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| aliases(&crate::yaml::parse(&text, limits)))
            .unwrap_or_default();
        let mut subcharts = Vec::new();
        for (name, bytes) in std::mem::take(&mut files.subcharts) {
            let Ok(parsed) = parse_values(bytes, limits).map(Rc::new) else {
                continue;
            };
            let keys: Vec<&String> = aliases
                .iter()
                .filter(|(_, chart)| *chart == name)
                .map(|(key, _)| key)
                .collect();
            if keys.is_empty() {
                subcharts.push((name, parsed));
            } else {
                for key in keys {
                    subcharts.push((key.clone(), parsed.clone()));
                }
            }
        }
        Ok(Defaults {
            global_reads: files.global_reads,
            own,
            subcharts,
        })
    }

    /// The defaults at `path` (in the chart's values).
    pub fn at(&self, path: &[Step]) -> At<'_> {
        let own = self
            .own
            .documents
            .first()
            .and_then(|doc| follow(&doc.root, path));
        let sub = match path.split_first() {
            Some((Step::Key(key), rest)) => self
                .subcharts
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, parsed)| parsed.documents.first())
                .and_then(|doc| follow(&doc.root, rest)),
            _ => None,
        };
        At { own, sub }
    }

    /// The registries the defaults set under `global` (non-empty), by
    /// path below it: the chart's own, over those of the subchart `path`
    /// is under (Helm gives a subchart its parent's globals).
    pub fn global_registries(&self, path: &[Step]) -> BTreeMap<String, String> {
        let own = self.at(&[]).own;
        let sub = self.at(&path[..path.len().min(1)]).sub;
        let mut out = BTreeMap::new();
        for root in [sub, own].into_iter().flatten() {
            let Some(global) = root.get("global") else {
                continue;
            };
            for (path, node) in registry_settings(global) {
                match node
                    .scalar_text()
                    .filter(|t| !t.is_empty() && !node.is_null())
                {
                    Some(text) => out.insert(path, text.to_string()),
                    None => out.remove(&path),
                };
            }
        }
        out
    }
}

/// The defaults at one path: the chart's own, then its subchart's.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub own: Option<&'a Node>,
    pub sub: Option<&'a Node>,
}

impl<'a> At<'a> {
    /// The text of part `key` and whether the subchart's values gave it: a
    /// key the chart's own values set (even empty) hides the subchart's.
    pub fn part(&self, key: &str) -> Option<(&'a str, bool)> {
        match self.own.and_then(|map| map.get(key)) {
            Some(_) => self
                .own
                .and_then(|map| part(map, key))
                .map(|(t, _)| (t, false)),
            None => self
                .sub
                .and_then(|map| part(map, key))
                .map(|(t, _)| (t, true)),
        }
    }

    /// The node the templates see here: the chart's own if it has one.
    pub fn node(&self) -> Option<&'a Node> {
        self.own.or(self.sub)
    }

    pub fn is_map(&self) -> bool {
        self.own.is_some_and(|n| n.as_mapping().is_some())
            || self.own.is_none() && self.sub.is_some_and(|n| n.as_mapping().is_some())
    }
}

/// `dependencies[].alias` of a `Chart.yaml`: (alias, chart name).
fn aliases(chart_yaml: &ParsedYaml) -> Vec<(String, String)> {
    let Some(doc) = chart_yaml.documents.first() else {
        return Vec::new();
    };
    doc.root
        .get("dependencies")
        .and_then(Node::as_sequence)
        .unwrap_or_default()
        .iter()
        .filter_map(|dependency| {
            let name = dependency.get("name")?.scalar_text()?;
            let alias = dependency
                .get("alias")
                .and_then(Node::scalar_text)
                .filter(|a| !a.is_empty())
                .unwrap_or(name);
            Some((alias.to_string(), name.to_string()))
        })
        .collect()
}

pub fn parse_values(bytes: Vec<u8>, limits: &Limits) -> Result<ParsedYaml, String> {
    let text = String::from_utf8(bytes).map_err(|_| "the chart's values.yaml is not UTF-8")?;
    let parsed = crate::yaml::parse(&text, limits);
    if let Some(error) = &parsed.error {
        return Err(format!(
            "the chart's values.yaml is not valid YAML: {}",
            error.message
        ));
    }
    Ok(parsed)
}
