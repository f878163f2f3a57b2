//! The deploy stage: what a changed image reference becomes once kustomize
//! and Flux have built it. A file is reached from build roots (Flux
//! Kustomization `spec.path`s; kustomizations no other one includes)
//! through kustomize layers; each layer's `images:` rewrites apply inner
//! first, then the Flux Kustomization's `spec.images`, then its post-build
//! variables. Unchanged files are read only when a change needs them:
//! kustomization files when one of them rewrites images, and Flux
//! Kustomizations, ConfigMaps and Secrets when variables are involved.

pub mod flux;
pub mod layers;
pub mod overlay_index;
pub mod tree;

use crate::changes::ImageUse;
use crate::extract;
use crate::finding::Location;
use crate::git::{GitError, Repo};
use crate::image::flux_variables;
use crate::k8s::kustomize::is_kustomization_file;
use crate::substitute::{substitute, Unresolved, Variables};
use flux::{ChangedVariable, FluxIndex, VarValue};
use git2::Oid;
use layers::{layer_at, split, Layer};
use overlay_index::OverlayFacts;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use tree::HeadTree;

/// Bounds on a build walk (a kustomization cycle, or a pathological tree).
const MAX_DEPTH: usize = 32;
const MAX_PLACEMENTS: usize = 500_000;
const MAX_WALKS: usize = 100_000;

/// One way a file is deployed: the root it is built from and the layers
/// between (outermost first).
#[derive(Clone)]
struct Placement {
    root: Option<usize>,
    chain: Vec<Rc<Layer>>,
}

pub struct Deploy<'r> {
    tree: HeadTree<'r>,
    /// The commit the change started from (its trees lend the overlay
    /// index the facts of files the change did not touch).
    previous: Option<Oid>,
    flux: FluxIndex,
    /// `flux` holds every Flux Kustomization of the tree.
    flux_known: bool,
    layers: HashMap<String, Option<Rc<Layer>>>,
    overlay: Option<OverlayFacts>,
    placements: HashMap<String, Vec<Placement>>,
    fields: crate::k8s::custom::ImageFields,
    /// Work done, against the bounds above.
    placed: usize,
    walks: usize,
    pub notices: Vec<String>,
}

impl<'r> Deploy<'r> {
    fn new(
        repo: &'r Repo,
        head: Oid,
        previous: Option<Oid>,
        fields: crate::k8s::custom::ImageFields,
    ) -> Self {
        Deploy {
            previous,
            fields,
            placed: 0,
            walks: 0,
            tree: HeadTree::new(repo, head),
            flux: FluxIndex::default(),
            flux_known: false,
            layers: HashMap::new(),
            overlay: None,
            placements: HashMap::new(),
            notices: Vec::new(),
        }
    }

    /// The overlay index of the head, built (or brought up to date) once.
    fn overlay_facts(&mut self) -> Result<&OverlayFacts, GitError> {
        if self.overlay.is_none() {
            let (facts, save_error) =
                overlay_index::facts(self.tree.repo(), self.tree.commit(), self.previous)?;
            self.notices.extend(save_error);
            self.overlay = Some(facts);
        }
        Ok(self.overlay.get_or_insert_with(OverlayFacts::default))
    }

    /// Reads the Flux Kustomizations that can build one of `targets`: those
    /// whose `spec.path` holds a target, or a kustomization that reaches
    /// out of its directory (and so may include a target from anywhere).
    /// True when their `spec.images` bring in variables: then every Flux
    /// Kustomization, ConfigMap and Secret of the tree is needed.
    fn add_flux_roots_for(&mut self, targets: &[String]) -> Result<bool, GitError> {
        let facts = self.overlay_facts()?;
        let mut reach: Vec<String> = targets
            .iter()
            .map(|t| {
                t.rsplit_once('/')
                    .map_or(String::new(), |(d, _)| d.to_string())
            })
            .collect();
        reach.extend(facts.reaching_out.iter().cloned());
        let builds_any = |builds: &str| reach.iter().any(|dir| is_within(dir, builds));
        let mut files: Vec<String> = facts
            .flux
            .iter()
            .filter(|at| builds_any(&at.builds))
            .map(|at| at.file.clone())
            .collect();
        files.sort();
        files.dedup();
        let mut found = flux::TreeFlux::default();
        for file in files {
            if let Some(loaded) = self.tree.load(&file)? {
                found.extend(flux::TreeFlux::of_file(&loaded));
            }
        }
        found.retain_roots(|root| builds_any(&root.dir));
        if found.images_use_variables() {
            return Ok(true);
        }
        self.flux = found.into_index(&self.tree)?;
        Ok(false)
    }

    fn layer(&mut self, dir: &str) -> Result<Option<Rc<Layer>>, GitError> {
        if let Some(known) = self.layers.get(dir) {
            return Ok(known.clone());
        }
        let layer = layer_at(&self.tree, dir)?.map(Rc::new);
        if let Some(layer) = &layer {
            for remote in &layer.remote {
                self.notices.push(format!(
                    "{}: remote resource {remote} not followed (fluxgate reads only this repository)",
                    layer.path
                ));
            }
        }
        self.layers.insert(dir.to_string(), layer.clone());
        Ok(layer)
    }

    /// Places every file reachable from the roots.
    fn place_all(&mut self, with_flux: bool, targets: &[String]) -> Result<(), GitError> {
        if with_flux && !self.flux_known {
            self.flux = FluxIndex::scan(&self.tree)?;
            self.flux_known = true;
        }
        let mut reached_dirs: HashSet<String> = HashSet::new();
        for index in 0..self.flux.roots.len() {
            let dir = self.flux.roots[index].dir.clone();
            self.walk(
                &dir,
                Placement {
                    root: Some(index),
                    chain: Vec::new(),
                },
                0,
                &mut reached_dirs,
            )?;
        }
        // Kustomizations no other one includes (and no Flux root reached),
        // among those that can lead to a target: the ones in a target's
        // directory or above it, and the ones that reach out of their own
        // directory (`..`, from the overlay index). Any other kustomization
        // includes only files below it, so it cannot include a target: it
        // is not read.
        let mut candidates: Vec<(String, String)> = Vec::new();
        for target in targets {
            let mut dir = target.rsplit_once('/').map_or("", |(d, _)| d);
            loop {
                for name in layers::FILE_NAMES {
                    let path = tree::join(dir, name).unwrap_or_else(|| name.to_string());
                    if self.tree.is_file(&path)? {
                        candidates.push((path, dir.to_string()));
                    }
                }
                if dir.is_empty() {
                    break;
                }
                dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
            }
        }
        for dir in self.overlay_facts()?.reaching_out.clone() {
            for name in layers::FILE_NAMES {
                let path = tree::join(&dir, name).unwrap_or_else(|| name.to_string());
                candidates.push((path, dir.clone()));
            }
        }
        // In path order, as a walk of the tree would find them.
        candidates.sort();
        candidates.dedup();
        let mut layer_dirs: Vec<String> = Vec::new();
        let mut listed: HashSet<String> = HashSet::new();
        for (path, dir) in candidates {
            if !listed.contains(&dir) && self.tree.is_file(&path)? {
                listed.insert(dir.clone());
                layer_dirs.push(dir);
            }
        }
        let mut included: HashSet<String> = HashSet::new();
        for dir in &layer_dirs {
            if let Some(layer) = self.layer(dir)? {
                included.extend(layer.includes.iter().cloned());
            }
        }
        for dir in &layer_dirs {
            if !included.contains(dir) && !reached_dirs.contains(dir) {
                self.walk(
                    dir,
                    Placement {
                        root: None,
                        chain: Vec::new(),
                    },
                    0,
                    &mut reached_dirs,
                )?;
            }
        }
        // Kustomizations only reachable from each other (a cycle kustomize
        // itself refuses): each is a root of its own.
        for dir in layer_dirs {
            if !reached_dirs.contains(&dir) {
                self.walk(
                    &dir,
                    Placement {
                        root: None,
                        chain: Vec::new(),
                    },
                    0,
                    &mut reached_dirs,
                )?;
            }
        }
        Ok(())
    }

    fn walk(
        &mut self,
        dir: &str,
        placement: Placement,
        depth: usize,
        reached: &mut HashSet<String>,
    ) -> Result<(), GitError> {
        self.walks += 1;
        if depth > MAX_DEPTH || self.placed > MAX_PLACEMENTS || self.walks > MAX_WALKS {
            if self.walks == MAX_WALKS + 1 {
                self.notices.push(format!(
                    "kustomize build of {dir} stopped: the kustomizations include each other too often (a cycle?); references beyond it are checked as written"
                ));
            }
            return Ok(());
        }
        reached.insert(dir.to_string());
        match self.layer(dir)? {
            Some(layer) => {
                let mut inner = placement;
                inner.chain.push(layer.clone());
                for include in &layer.includes {
                    if self.tree.is_file(include)? {
                        self.place(include, &inner);
                    } else if self.tree.is_dir(include)? {
                        self.walk(include, inner.clone(), depth + 1, reached)?;
                    }
                }
                // The kustomization file itself (its own `images:` entries).
                self.place(&layer.path, &inner);
                for generated in &layer.generated {
                    self.place(&generated.file, &inner);
                }
            }
            None => {
                // A Flux path without a kustomization: Flux builds every
                // manifest under it, and nested kustomizations as such.
                let files: Vec<String> = self
                    .tree
                    .files_under(dir)?
                    .iter()
                    .map(|f| f.path.clone())
                    .collect();
                let nested: Vec<String> = files
                    .iter()
                    .filter(|p| is_kustomization_file(p))
                    .map(|p| {
                        p.rsplit_once('/')
                            .map_or(String::new(), |(d, _)| d.to_string())
                    })
                    .collect();
                for nested_dir in &nested {
                    self.walk(nested_dir, placement.clone(), depth + 1, reached)?;
                }
                for path in files.iter().filter(|p| crate::git::is_yaml(p)) {
                    let under_nested = nested
                        .iter()
                        .any(|n| n.is_empty() || path.starts_with(&format!("{n}/")));
                    if !under_nested {
                        self.place(path, &placement);
                    }
                }
            }
        }
        Ok(())
    }

    fn place(&mut self, path: &str, placement: &Placement) {
        self.placed += 1;
        self.placements
            .entry(path.to_string())
            .or_default()
            .push(placement.clone());
    }

    /// The variables of a placement (repository values win over `--var`).
    fn variables(
        &self,
        placement: &Placement,
        cli: &Variables,
    ) -> BTreeMap<String, Option<VarValue>> {
        let mut variables: BTreeMap<String, Option<VarValue>> =
            cli.keys().map(|k| (k.clone(), None)).collect();
        if let Some(root) = placement.root {
            for (name, value) in self.flux.variables(&self.flux.roots[root]) {
                variables.insert(name, Some(value));
            }
        }
        variables
    }

    /// The reference a raw one becomes in a placement. `images:` entries
    /// apply only to a field kustomize rewrites ([`rewritten_by_images`]);
    /// post-build variables apply to every field.
    fn effective(
        &self,
        raw: &str,
        placement: &Placement,
        cli: &Variables,
        rewritable: bool,
    ) -> Effective {
        let mut reference = raw.to_string();
        let mut related = Vec::new();
        let placement = &if rewritable {
            placement.clone()
        } else {
            Placement {
                root: placement.root,
                chain: Vec::new(),
            }
        };
        let flux_images = placement
            .root
            .filter(|_| rewritable)
            .map(|r| self.flux.roots[r].images.as_slice())
            .unwrap_or_default();
        let layers = placement.chain.iter().rev().map(|l| l.images.as_slice());
        for rewrites in layers.chain(std::iter::once(flux_images)) {
            if let Some((rewrite, new)) = rewrites
                .iter()
                .find_map(|rw| rw.apply(&reference).map(|new| (rw, new)))
            {
                if new != reference {
                    related.push((
                        rewrite.location.clone(),
                        format!("rewritten to `{new}` by this `images:` entry"),
                    ));
                    reference = new;
                }
            }
        }
        let names = flux_variables(&reference);
        if names.is_empty() {
            return Effective {
                reference: Ok(reference),
                related,
            };
        }
        let known = self.variables(placement, cli);
        let mut values: Variables = cli.clone();
        for (name, value) in &known {
            if let Some(value) = value {
                values.insert(name.clone(), value.value.clone());
            }
        }
        for name in &names {
            if let Some(Some(value)) = known.get(name) {
                related.push((
                    value.location.clone(),
                    format!("`${{{name}}}` is `{}` here", value.value),
                ));
            }
        }
        let root_name = placement.root.map(|r| {
            format!(
                "the Flux Kustomization {}",
                self.flux.roots[r].id.display_name()
            )
        });
        let reference = substitute(&reference, &values).map_err(|unresolved| match unresolved {
            Unresolved::Missing(missing) => {
                let list: Vec<String> = missing.iter().map(|m| format!("${{{m}}}")).collect();
                match &root_name {
                    Some(root) => format!(
                        "{} has no value in {root} (`postBuild.substitute` or `substituteFrom`) nor from `--var`",
                        list.join(", ")
                    ),
                    None => format!(
                        "{} has no value: no Flux Kustomization in this repository builds this file; pass `--var NAME=VALUE`",
                        list.join(", ")
                    ),
                }
            }
            Unresolved::Unsupported(expression) => {
                format!("`{expression}` uses an envsubst operator fluxgate does not evaluate")
            }
        });
        Effective { reference, related }
    }
}

struct Effective {
    reference: Result<String, String>,
    related: Vec<(Location, String)>,
}

/// Replaces each image use by what it deploys as, and adds the uses that a
/// changed variable value changes. `changed_files` are the head files the
/// change touched (already in `uses`).
///
/// `whole_tree` is the Flux index of every head file, when the caller has
/// read them all anyway (`--all`): then every Flux Kustomization applies,
/// and the tree is not scanned again for them.
#[allow(clippy::too_many_arguments)]
pub fn expand(
    repo: &Repo,
    (head, base): (Oid, Option<Oid>),
    uses: Vec<ImageUse>,
    changed_variables: &[ChangedVariable],
    cli: &Variables,
    fields: &crate::k8s::custom::ImageFields,
    whole_tree: Option<flux::TreeFlux>,
    notices: &mut Vec<String>,
) -> Result<Vec<ImageUse>, GitError> {
    let with_flux = whole_tree.as_ref().is_some_and(flux::TreeFlux::has_roots)
        || !changed_variables.is_empty()
        || uses
            .iter()
            .any(|u| raw(u).is_some_and(|r| !flux_variables(r).is_empty()));
    let mut deploy = Deploy::new(repo, head, base, fields.clone());
    if let Some(found) = whole_tree {
        deploy.flux = found.into_index(&deploy.tree)?;
        deploy.flux_known = true;
    }
    let targets: Vec<String> = {
        let mut paths: Vec<String> = uses.iter().map(|u| u.source.path.clone()).collect();
        paths.sort();
        paths.dedup();
        paths
    };
    // Without every Flux Kustomization at hand, the ones that can build a
    // changed file (the overlay index knows where they all are): their
    // `spec.images` apply to it.
    let mut with_flux = with_flux;
    if !with_flux && !deploy.flux_known && !uses.is_empty() {
        with_flux = deploy.add_flux_roots_for(&targets)?;
    }
    let rewrites_exist = with_flux
        || !deploy.flux.roots.is_empty()
        // A kustomize `newName`-only entry takes its tags from the files it
        // reaches; other incomplete references need no walk.
        || uses
            .iter()
            .any(|u| u.site.incomplete.is_some() && is_kustomization_file(&u.source.path))
        || deploy.overlay_facts()?.rewrites;
    if !rewrites_exist {
        return Ok(uses.into_iter().map(|u| resolve_alone(u, cli)).collect());
    }
    deploy.place_all(with_flux, &targets)?;
    let mut out = Vec::new();
    let mut seen: HashSet<(String, usize, String)> = HashSet::new();
    for image_use in uses {
        for expanded in deploy.expand_use(image_use, cli)? {
            remember(&mut seen, &expanded);
            out.push(expanded);
        }
    }
    for expanded in deploy.uses_of_variables(changed_variables, cli)? {
        if remember(&mut seen, &expanded) {
            out.push(expanded);
        }
    }
    notices.append(&mut deploy.notices);
    Ok(out)
}

/// Whether kustomize's image transformer (behind kustomize `images:` and a
/// Flux Kustomization's `spec.images`) rewrites the image at `field`: a
/// string `image` of an item of a list named `containers` or
/// `initContainers`, wherever that list is (its legacy filter walks the
/// whole object). An image map in HelmRelease values (`image.repository` +
/// `image.tag`), a Tekton step or a Plan's `spec.upgrade.image` is left as
/// written, so checking a rewritten reference there would check an image
/// the cluster never pulls.
pub fn rewritten_by_images(field: &str) -> bool {
    // Image volumes: by kustomize's default field specs, at these two
    // paths only (not in a CronJob's template).
    if let Some(volume) = ["spec.volumes[", "spec.template.spec.volumes["]
        .iter()
        .find_map(|prefix| {
            field
                .strip_prefix(prefix)?
                .strip_suffix("].image.reference")
        })
    {
        return !volume.is_empty() && volume.bytes().all(|b| b.is_ascii_digit());
    }
    let Some(item) = field.strip_suffix(".image") else {
        return false;
    };
    let last = item.rsplit('.').next().unwrap_or(item);
    let Some((list, index)) = last.split_once('[') else {
        return false;
    };
    matches!(list, "containers" | "initContainers")
        && index
            .strip_suffix(']')
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether directory `dir` is `ancestor` or below it ("" is the root).
fn is_within(dir: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || dir == ancestor
        || dir
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Records a use; false if the same reference at the same place was seen.
fn remember(seen: &mut HashSet<(String, usize, String)>, image_use: &ImageUse) -> bool {
    seen.insert((
        image_use.source.path.clone(),
        image_use.site.span.start,
        image_use.site.reference.clone().unwrap_or_default(),
    ))
}

fn raw(image_use: &ImageUse) -> Option<&str> {
    image_use.site.reference.as_deref().ok()
}

/// A use outside any build: only `--var` can resolve its variables.
fn resolve_alone(mut image_use: ImageUse, cli: &Variables) -> ImageUse {
    let Some(text) = raw(&image_use).map(str::to_string) else {
        return image_use;
    };
    if flux_variables(&text).is_empty() {
        return image_use;
    }
    match substitute(&text, cli) {
        Ok(resolved) => set_reference(&mut image_use, resolved),
        Err(Unresolved::Missing(missing)) => {
            let list: Vec<String> = missing.iter().map(|m| format!("${{{m}}}")).collect();
            image_use.site.incomplete = Some(format!(
                "{} has no value: no Flux Kustomization in this repository builds this file; pass `--var NAME=VALUE`",
                list.join(", ")
            ));
        }
        Err(Unresolved::Unsupported(expression)) => {
            image_use.site.incomplete = Some(format!(
                "`{expression}` uses an envsubst operator fluxgate does not evaluate"
            ));
        }
    }
    image_use
}

fn set_reference(image_use: &mut ImageUse, reference: String) {
    if image_use.site.reference.as_deref() != Ok(reference.as_str()) {
        // The bytes no longer map onto the written value.
        image_use.site.parts.clear();
        image_use.site.reference = Ok(reference);
    }
}

impl Deploy<'_> {
    fn expand_use(
        &mut self,
        image_use: ImageUse,
        cli: &Variables,
    ) -> Result<Vec<ImageUse>, GitError> {
        let path = image_use.source.path.clone();
        if image_use.site.incomplete.is_some() && is_kustomization_file(&path) {
            return self.complete_new_name(image_use);
        }
        let Some(text) = raw(&image_use).map(str::to_string) else {
            return Ok(vec![image_use]);
        };
        let placements = self.placements.get(&path).cloned().unwrap_or_default();
        // A kustomization's own entry is applied where it sits; only the
        // layers around it and the root still apply.
        if placements.is_empty() {
            return Ok(vec![resolve_alone(image_use, cli)]);
        }
        let mut by_reference: BTreeMap<String, ImageUse> = BTreeMap::new();
        for placement in &placements {
            let placement = if is_kustomization_file(&path) {
                let mut outer = placement.clone();
                outer.chain.retain(|l| l.path != path);
                outer
            } else {
                placement.clone()
            };
            let rewritable =
                is_kustomization_file(&path) || rewritten_by_images(&image_use.site.field);
            let effective = self.effective(&text, &placement, cli, rewritable);
            let mut expanded = image_use.clone();
            match effective.reference {
                Ok(reference) => set_reference(&mut expanded, reference),
                Err(why) => expanded.site.incomplete = Some(why),
            }
            expanded.related.extend(effective.related);
            let key = format!(
                "{:?}{:?}",
                expanded.site.reference, expanded.site.incomplete
            );
            by_reference.entry(key).or_insert(expanded);
        }
        Ok(by_reference.into_values().collect())
    }

    /// A kustomize `images:` entry with only `newName`: the tags come from
    /// the resources it rewrites.
    fn complete_new_name(&mut self, image_use: ImageUse) -> Result<Vec<ImageUse>, GitError> {
        let key = &image_use.site.key;
        let Some(name) = key
            .split_once("[name=")
            .and_then(|(_, rest)| rest.strip_suffix(']'))
            .map(str::to_string)
        else {
            return Ok(vec![image_use]);
        };
        let dir = image_use
            .source
            .path
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string());
        let Ok(new_name) = image_use.site.reference.clone() else {
            return Ok(vec![image_use]);
        };
        let mut reached = HashSet::new();
        let saved = std::mem::take(&mut self.placements);
        self.walk(
            &dir,
            Placement {
                root: None,
                chain: Vec::new(),
            },
            0,
            &mut reached,
        )?;
        let local = std::mem::replace(&mut self.placements, saved);
        let files: Vec<String> = local.keys().cloned().collect();
        let mut found: BTreeMap<String, ImageUse> = BTreeMap::new();
        for file in files {
            if file == image_use.source.path {
                continue;
            }
            let Some(loaded) = self.tree.load(&file)? else {
                continue;
            };
            for doc in &loaded.parsed.documents {
                for site in extract::document_images(&file, &doc.root, &self.fields).sites {
                    let Ok(reference) = &site.reference else {
                        continue;
                    };
                    let (site_name, tag, digest) = split(reference);
                    if site_name != name || (tag.is_none() && digest.is_none()) {
                        continue;
                    }
                    let mut effective = new_name.clone();
                    if let Some(tag) = tag {
                        effective.push_str(&format!(":{tag}"));
                    }
                    if let Some(digest) = digest {
                        effective.push_str(&format!("@{digest}"));
                    }
                    let mut expanded = image_use.clone();
                    expanded.site.incomplete = None;
                    set_reference(&mut expanded, effective.clone());
                    expanded.related.push((
                        Location::new(&loaded.source, site.span),
                        format!("the tag comes from `{reference}` here"),
                    ));
                    found.entry(effective).or_insert(expanded);
                }
            }
        }
        if found.is_empty() {
            return Ok(vec![image_use]);
        }
        Ok(found.into_values().collect())
    }

    /// The image uses changed variable values change: every reference
    /// using a changed variable under each Flux Kustomization that takes
    /// it. Each file under those roots is read once for all the variables
    /// (a new ConfigMap brings as many changed values as it has keys).
    fn uses_of_variables(
        &mut self,
        changed: &[ChangedVariable],
        cli: &Variables,
    ) -> Result<Vec<ImageUse>, GitError> {
        let mut roots_of_holder: HashMap<&crate::k8s::ObjectId, Vec<usize>> = HashMap::new();
        for variable in changed {
            roots_of_holder.entry(&variable.holder).or_insert_with(|| {
                (0..self.flux.roots.len())
                    .filter(|&i| {
                        let root = &self.flux.roots[i];
                        root.id == variable.holder || self.flux.uses(root, &variable.holder)
                    })
                    .collect()
            });
        }
        // By name, in the order given: the first variable to reach a
        // reference is the one its finding blames.
        let mut by_name: ByName<'_> = HashMap::new();
        for (order, variable) in changed.iter().enumerate() {
            let roots = roots_of_holder[&variable.holder].as_slice();
            if !roots.is_empty() {
                by_name
                    .entry(variable.name.as_str())
                    .or_default()
                    .push((order, variable, roots));
            }
        }
        if by_name.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: HashSet<usize> = by_name
            .values()
            .flatten()
            .flat_map(|(_, _, roots)| roots.iter().copied())
            .collect();
        let mut files: Vec<(String, Vec<Placement>)> = self
            .placements
            .iter()
            .filter_map(|(path, placements)| {
                let placements: Vec<Placement> = placements
                    .iter()
                    .filter(|p| p.root.is_some_and(|r| wanted.contains(&r)))
                    .cloned()
                    .collect();
                (!placements.is_empty()).then(|| (path.clone(), placements))
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        for (path, placements) in files {
            let Some(loaded) = self.tree.load(&path)? else {
                continue;
            };
            for doc in &loaded.parsed.documents {
                if extract::is_sops_encrypted(&doc.root) {
                    continue;
                }
                let images = extract::document_images(&path, &doc.root, &self.fields);
                for site in images.sites {
                    let Ok(text) = site.reference.clone() else {
                        continue;
                    };
                    let names = flux_variables(&text);
                    let reaching = changed_in(&by_name, &names);
                    for (changed, placement) in reaching.iter().flat_map(|(changed, roots)| {
                        placements
                            .iter()
                            .filter(|p| p.root.is_some_and(|r| roots.contains(&r)))
                            .map(move |p| (*changed, p))
                    }) {
                        let rewritable =
                            is_kustomization_file(&path) || rewritten_by_images(&site.field);
                        let effective = self.effective(&text, placement, cli, rewritable);
                        let mut image_use = ImageUse {
                            source: loaded.source.clone(),
                            kind: images.kind.clone(),
                            name: images.name.clone(),
                            site: site.clone(),
                            change: extract::Change::Modified,
                            related: Vec::new(),
                            blame: Some(changed.value.location.clone()),
                            release_file: None,
                            values_path: None,
                        };
                        match effective.reference {
                            Ok(reference) => set_reference(&mut image_use, reference),
                            Err(why) => image_use.site.incomplete = Some(why),
                        }
                        image_use.related.push((
                            Location::new(&loaded.source, site.span),
                            format!("`${{{}}}` is used here, in `{text}`", changed.name),
                        ));
                        out.push(image_use);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Changed variables by name: (order given, variable, roots it applies under).
type ByName<'a> = HashMap<&'a str, Vec<(usize, &'a ChangedVariable, &'a [usize])>>;

/// The changed variables a reference's variable names reach, each with the
/// roots it applies under, in the order the changes were given.
fn changed_in<'a>(
    by_name: &ByName<'a>,
    names: &[String],
) -> Vec<(&'a ChangedVariable, &'a [usize])> {
    let mut reaching: Vec<(usize, &ChangedVariable, &[usize])> = names
        .iter()
        .filter_map(|name| by_name.get(name.as_str()))
        .flatten()
        .copied()
        .collect();
    reaching.sort_by_key(|(order, _, _)| *order);
    reaching.dedup_by_key(|(order, _, _)| *order);
    reaching
        .into_iter()
        .map(|(_, changed, roots)| (changed, roots))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::rewritten_by_images;

    #[test]
    fn only_container_list_images_are_rewritten() {
        for field in [
            "spec.template.spec.containers[0].image",
            "spec.jobTemplate.spec.template.spec.initContainers[12].image",
            "spec.values.sidecar.containers[0].image",
            "spec.volumes[0].image.reference",
            "spec.template.spec.volumes[3].image.reference",
        ] {
            assert!(rewritten_by_images(field), "{field}");
        }
        for field in [
            "spec.values.image",
            "spec.values.controllers.main.containers.app.image",
            "spec.template.spec.ephemeralContainers[0].image",
            "spec.steps[0].image",
            "spec.upgrade.image",
            "spec.values.containers[].image",
            "spec.values.containers[x].image",
            "images[0]",
            "image",
            "spec.jobTemplate.spec.template.spec.volumes[0].image.reference",
            "spec.values.volumes[0].image.reference",
        ] {
            assert!(!rewritten_by_images(field), "{field}");
        }
    }
}
