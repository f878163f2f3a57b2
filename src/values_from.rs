//! Helm values a HelmRelease takes with `valuesFrom`: a key of a ConfigMap
//! or Secret defined in this repository, either written in a manifest (the
//! key's value a literal block of YAML, `values.yaml: |`) or made by a
//! kustomize generator from a values file. Images written there deploy as
//! surely as those in `spec.values`, so a change to them is checked like one.
//!
//! Which HelmRelease takes which values is looked up beside the changed
//! file: in the file itself, among the resources of its directory's
//! kustomization (whose generators name the values files), or, without a
//! kustomization, in the YAML files of its directory. That is as far as
//! kustomize's own name references reach, and where Flux repositories keep
//! a release's values.

use crate::deploy::layers::{layer_at, Layer};
use crate::deploy::tree::{join, HeadTree};
use crate::extract::is_sops_encrypted;
use crate::git::{is_yaml, BlobRef, EntryKind, GitError, TreeEntry};
use crate::k8s::flux::{is_helm_release, values_from, values_sites, ValuesFrom};
use crate::k8s::kustomize::{generated_literals, is_kustomization_file, GeneratedLiteral};
use crate::k8s::{ImageSite, ObjectId};
use crate::load::LoadedFile;
use crate::source::Span;
use crate::yaml::{Limits, Node};
use std::collections::{BTreeMap, HashMap, HashSet};
use target::Target;

pub mod merged;
pub mod set_by_target;
pub mod target;

/// `None`: the whole file (a generator's source); otherwise the key of a
/// ConfigMap or Secret in the file that holds the values.
pub type Holder = Option<(ObjectId, String)>;

/// Helm values in a file, and the HelmRelease that takes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValuesRole {
    pub holder: Holder,
    /// The HelmRelease, as `namespace/name`.
    pub release: String,
    /// The file that defines the release.
    pub release_file: String,
    /// For an entry with `targetPath`: the key holds one value, a part of
    /// the image this says.
    pub target: Option<Target>,
}

impl ValuesRole {
    /// `the Helm values at key values.yaml of ConfigMap apps/x (taken by
    /// HelmRelease apps/r)`, for messages.
    pub fn describe(&self) -> String {
        if let (Some((id, key)), Some(target)) = (&self.holder, &self.target) {
            return format!(
                "the value at key `{key}` of {} {} (set at `{}` by HelmRelease {})",
                id.kind,
                id.display_name(),
                target.path,
                self.release
            );
        }
        match &self.holder {
            None => format!("the Helm values (taken by HelmRelease {})", self.release),
            Some((id, key)) => format!(
                "the Helm values at key `{key}` of {} {} (taken by HelmRelease {})",
                id.kind,
                id.display_name(),
                self.release
            ),
        }
    }

    /// Where its images are, for people and for matching base and head.
    fn prefix(&self) -> String {
        match &self.holder {
            None => "values".to_string(),
            Some((id, key)) => format!("{}[{key}]", data_field(id)),
        }
    }
}

/// The roles of files, by path.
pub type Roles = HashMap<String, Vec<ValuesRole>>;

/// Values a file could hold, before a release is found that takes them.
struct Candidate {
    path: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    key: String,
    /// The object in the file holding them; `None` for a generator's file.
    holder: Option<ObjectId>,
    /// A single value (not a literal block): only an entry with
    /// `targetPath` takes it.
    single: bool,
}

/// Literal blocks of one file considered as `valuesFrom` values: real
/// files hold a few; the cap keeps a hostile one cheap.
const MAX_BLOCKS_PER_FILE: usize = 100;

/// From this many files on, they are read as one batch on every core (the
/// batch reader's start-up costs more than a few single reads).
const BATCH_FROM: usize = 64;

/// The values roles of `files` (head files) in `tree`.
pub fn roles(
    tree: &HeadTree<'_>,
    files: &[BlobRef],
    notices: &mut Vec<String>,
) -> Result<Roles, GitError> {
    let files: Vec<&BlobRef> = files.iter().filter(|f| is_yaml(&f.path)).collect();
    // Most files are manifests without a literal block: their bytes say
    // so (read as one batch), and nothing else is read for them.
    let look = |bytes: &[u8]| (shape(bytes), mentions_target_path(bytes));
    let looks = if files.len() > BATCH_FROM {
        let ids: Vec<git2::Oid> = files.iter().map(|f| f.id).collect();
        tree.repo()
            .scan_blobs(&ids, crate::load::MAX_FILE_BYTES, look)?
    } else {
        let mut looks = Vec::new();
        for file in &files {
            looks.push(tree.bytes(file)?.map(|bytes| look(&bytes)));
        }
        looks
    };
    let targeting: HashMap<&str, bool> = files
        .iter()
        .zip(&looks)
        .filter_map(|(file, look)| Some((file.path.as_str(), look.as_ref()?.1)))
        .collect();
    // When every YAML file of the tree is here (`--all`) and none mentions
    // `targetPath`, no single value is taken: ConfigMaps without a literal
    // block are passed over without looking at their directories.
    let no_singles = files.len() > BATCH_FROM
        && !targeting.values().any(|mentions| *mentions)
        && tree.files()?.iter().filter(|f| is_yaml(&f.path)).count() == files.len();
    let mut by_dir: BTreeMap<&str, Vec<(&BlobRef, Shape)>> = BTreeMap::new();
    for (file, look) in files.iter().zip(looks) {
        let Some((shape, _)) = look else {
            continue;
        };
        if shape == Shape::Other || no_singles && shape == Shape::ManifestWithData {
            continue;
        }
        let dir = file.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        by_dir.entry(dir).or_default().push((file, shape));
    }
    let mut roles = Roles::new();
    let mut seen: HashSet<(String, ValuesRole)> = HashSet::new();
    for (dir, shaped) in by_dir {
        let pick = |wanted: Shape| -> Vec<&BlobRef> {
            shaped
                .iter()
                .filter(|(_, shape)| *shape == wanted)
                .map(|(file, _)| *file)
                .collect()
        };
        let values_files = pick(Shape::Values);
        let mut data_files = pick(Shape::ManifestWithBlock);
        let files: Vec<&BlobRef> = shaped.iter().map(|(file, _)| *file).collect();
        let kustomization = layer_at(tree, dir)?;
        // Single values matter only to a release with `targetPath` beside
        // them: most ConfigMaps are not read at all.
        let single_files = pick(Shape::ManifestWithData);
        let singles = !(data_files.is_empty() && single_files.is_empty())
            && targets_beside(tree, dir, &files, kustomization.as_ref(), &targeting)?;
        if singles {
            data_files.extend(single_files);
        }
        let candidates = candidates(
            tree,
            &values_files,
            &data_files,
            singles,
            kustomization.as_ref(),
            notices,
        )?;
        if candidates.is_empty() {
            continue;
        }
        // By (kind, name, key): a hostile file with many keys and many
        // entries still costs one look-up per key.
        let releases = releases(tree, dir, &files, kustomization.as_ref())?;
        let mut takers: ByEntry<'_, (&Release, Option<&Target>)> = HashMap::new();
        for release in &releases {
            for (entry, target) in release.takes() {
                takers
                    .entry((&entry.kind, &entry.name, &entry.key))
                    .or_default()
                    .push((release, target));
            }
        }
        for candidate in &candidates {
            let wanted = (
                candidate.kind.as_str(),
                candidate.name.as_str(),
                candidate.key.as_str(),
            );
            for (release, target) in takers.get(&wanted).map_or(&[][..], Vec::as_slice) {
                if candidate.single != target.is_some() {
                    continue;
                }
                let same_namespace = same_namespace(&release.namespace, &candidate.namespace);
                let role = ValuesRole {
                    holder: candidate
                        .holder
                        .clone()
                        .map(|id| (id, candidate.key.clone())),
                    release: release.name.clone(),
                    release_file: release.file.clone(),
                    target: target.cloned(),
                };
                if same_namespace && seen.insert((candidate.path.clone(), role.clone())) {
                    roles.entry(candidate.path.clone()).or_default().push(role);
                }
            }
        }
    }
    Ok(roles)
}

/// The `valuesFrom` entries of every HelmRelease in `files` (base files),
/// by object: what the releases took before the change.
pub fn taken_before(files: &[LoadedFile]) -> HashMap<ObjectId, Vec<ValuesFrom>> {
    let mut taken = HashMap::new();
    for file in files {
        if !file.source.text().contains("valuesFrom") {
            continue;
        }
        for doc in &file.parsed.documents {
            if let Some(id) = ObjectId::of(&doc.root).filter(is_helm_release) {
                taken.insert(id, values_from(&doc.root));
            }
        }
    }
    taken
}

/// The values that releases in the changed `files` take now and did not
/// before (`before`, from [`taken_before`]): a new release, or an entry
/// added to `valuesFrom`. Those values deploy anew however old their file
/// is, so every image in them is checked. Looked up where [`roles`] looks.
pub fn newly_taken(
    tree: &HeadTree<'_>,
    files: &[BlobRef],
    before: &HashMap<ObjectId, Vec<ValuesFrom>>,
) -> Result<Roles, GitError> {
    let mut roles = Roles::new();
    for blob in files.iter().filter(|f| is_yaml(&f.path)) {
        let Some(file) = tree.load(&blob.path)? else {
            continue;
        };
        if !file.source.text().contains("valuesFrom") {
            continue;
        }
        let dir = blob.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let kustomization = layer_at(tree, dir)?;
        for release in releases_in(&file, kustomization.as_ref()) {
            let old: HashSet<&ValuesFrom> = before.get(&release.id).into_iter().flatten().collect();
            let mut new: Taken<'_> = HashMap::new();
            for (entry, target) in release.takes().filter(|(e, _)| !old.contains(e)) {
                new.entry((&entry.kind, &entry.name, &entry.key))
                    .or_default()
                    .push(target);
            }
            if new.is_empty() {
                continue;
            }
            let found = holders(
                tree,
                dir,
                &blob.path,
                kustomization.as_ref(),
                &new,
                &release,
            )?;
            for (path, holder, target) in found {
                let role = ValuesRole {
                    holder,
                    release: release.name.clone(),
                    release_file: release.file.clone(),
                    target,
                };
                let known = roles.entry(path).or_default();
                if !known.contains(&role) {
                    known.push(role);
                }
            }
        }
    }
    Ok(roles)
}

/// What is known of `valuesFrom` entries, by (kind, name, key).
type ByEntry<'a, T> = HashMap<(&'a str, &'a str, &'a str), Vec<T>>;

/// Entries a release takes: the target of each one with `targetPath`,
/// `None` for a values document.
type Taken<'a> = ByEntry<'a, Option<&'a Target>>;

/// Where the values of `entries` are: a generator's file, a literal block
/// in a ConfigMap/Secret of the release's directory, or (for an entry with
/// `targetPath`) a single value there. Each file and key is looked at
/// once, however many entries there are.
fn holders(
    tree: &HeadTree<'_>,
    dir: &str,
    release_file: &str,
    kustomization: Option<&Layer>,
    entries: &Taken<'_>,
    release: &Release,
) -> Result<Vec<(String, Holder, Option<Target>)>, GitError> {
    let wanted = |kind: &str, name: &str, key: &str, single: bool| -> Vec<Option<Target>> {
        entries
            .get(&(kind, name, key))
            .into_iter()
            .flatten()
            .filter(|target| target.is_some() == single)
            .map(|target| target.cloned())
            .collect()
    };
    let names: HashSet<(&str, &str)> = entries
        .keys()
        .map(|(kind, name, _)| (*kind, *name))
        .collect();
    let mut found = Vec::new();
    for generated in kustomization.map_or(&[][..], |k| &k.generated) {
        if !wanted(&generated.kind, &generated.name, &generated.key, false).is_empty()
            && same_namespace(&release.namespace, &generated.namespace)
        {
            found.push((generated.file.clone(), None, None));
        }
    }
    for literal in kustomization.map_or(&[][..], |k| &k.literals) {
        if !same_namespace(&release.namespace, &literal.namespace) {
            continue;
        }
        for target in wanted(&literal.kind, &literal.name, &literal.key, true) {
            let path = kustomization.map(|k| k.path.clone()).unwrap_or_default();
            let holder = (literal_holder(literal), literal.key.clone());
            found.push((path, Some(holder), target));
        }
    }
    for path in beside(tree, dir, vec![release_file.to_string()], kustomization)? {
        let Some(file) = tree.load(&path)? else {
            continue;
        };
        for doc in &file.parsed.documents {
            let Some(id) = ObjectId::of(&doc.root).filter(|id| {
                data_key(id).is_some() && names.contains(&(id.kind.as_str(), id.name.as_str()))
            }) else {
                continue;
            };
            let namespace = id
                .namespace
                .clone()
                .or_else(|| kustomization.and_then(|k| k.namespace.clone()));
            if is_sops_encrypted(&doc.root) || !same_namespace(&release.namespace, &namespace) {
                continue;
            }
            let data = doc.root.get(data_field(&id));
            for (key, value) in data.and_then(Node::as_mapping).unwrap_or_default() {
                let Some(key) = key.scalar_text() else {
                    continue;
                };
                let single = !is_literal_block(value, &file);
                for target in wanted(&id.kind, &id.name, key, single) {
                    found.push((path.clone(), Some((id.clone(), key.to_string())), target));
                }
            }
        }
    }
    Ok(found)
}

/// Where the values of one entry of `release` are (see [`holders`]).
fn holders_of(
    tree: &HeadTree<'_>,
    release_file: &str,
    kustomization: Option<&Layer>,
    release: &Release,
    (entry, target): (&ValuesFrom, Option<&Target>),
) -> Result<Vec<(String, Holder, Option<Target>)>, GitError> {
    let dir = release_file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut taken: Taken<'_> = HashMap::new();
    taken
        .entry((&entry.kind, &entry.name, &entry.key))
        .or_default()
        .push(target);
    holders(tree, dir, release_file, kustomization, &taken, release)
}

fn same_namespace(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// What a changed file can hold, by a look at its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Helm values (no top-level `apiVersion:`, something image-like): a
    /// generator may make it a ConfigMap key.
    Values,
    /// A manifest that may hold a ConfigMap or Secret with a literal block.
    ManifestWithBlock,
    /// A manifest that may hold a ConfigMap or Secret without one: single
    /// values, which only an entry with `targetPath` takes.
    ManifestWithData,
    Other,
}

fn shape(bytes: &[u8]) -> Shape {
    let has = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    // A manifest has a top-level `apiVersion`; a values file may well have
    // a top-level `kind` (fluent-bit's chart takes `kind: DaemonSet`).
    let manifest = bytes.starts_with(b"apiVersion:") || has(b"\napiVersion:");
    // A kustomization's generator literals are single values.
    if has(b"literals") && (has(b"configMapGenerator") || has(b"secretGenerator")) {
        return Shape::ManifestWithData;
    }
    if !manifest {
        if has(b"mage") || has(b"repository") {
            Shape::Values
        } else {
            Shape::Other
        }
    } else if has(b"ConfigMap") || has(b"Secret") {
        if has(b"|") {
            Shape::ManifestWithBlock
        } else {
            Shape::ManifestWithData
        }
    } else {
        Shape::Other
    }
}

fn mentions_target_path(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"targetPath").is_some()
}

/// Whether a file beside `files` (where [`releases`] looks) mentions
/// `targetPath`: by the bytes already looked at (`known`), or else by a
/// look at the file's bytes (never parsed here).
fn targets_beside(
    tree: &HeadTree<'_>,
    dir: &str,
    files: &[&BlobRef],
    kustomization: Option<&Layer>,
    known: &HashMap<&str, bool>,
) -> Result<bool, GitError> {
    let files = files.iter().map(|f| f.path.clone()).collect();
    for path in beside(tree, dir, files, kustomization)? {
        let mentions = match known.get(path.as_str()) {
            Some(mentions) => *mentions,
            None => tree.mentions(&path, "targetPath")?,
        };
        if mentions {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `files` and the YAML files beside them that kustomize's name references
/// reach: the kustomization's resources, or (without one) the directory's.
fn beside(
    tree: &HeadTree<'_>,
    dir: &str,
    mut files: Vec<String>,
    kustomization: Option<&Layer>,
) -> Result<Vec<String>, GitError> {
    match kustomization {
        Some(layer) => files.extend(layer.includes.iter().filter(|p| is_yaml(p)).cloned()),
        None => files.extend(
            dir_entries(tree, dir)?
                .iter()
                .filter(|e| is_yaml(&e.name))
                .filter_map(|e| join(dir, &e.name)),
        ),
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The files directly in `dir` at head.
fn dir_entries(tree: &HeadTree<'_>, dir: &str) -> Result<Vec<TreeEntry>, GitError> {
    let repo = tree.repo();
    let tree_id = if dir.is_empty() {
        Some(repo.root_tree(tree.commit())?)
    } else {
        repo.entry_at(tree.commit(), dir)?
            .filter(|e| e.kind == EntryKind::Dir)
            .map(|e| e.id)
    };
    Ok(match tree_id {
        Some(id) => repo
            .tree_entries(id)?
            .into_iter()
            .filter(|e| e.kind == EntryKind::File)
            .collect(),
        None => Vec::new(),
    })
}

/// The values changed files of a directory can hold: a generator's source
/// file (`values_files`), or a ConfigMap/Secret key (in `data_files`)
/// written as a literal block, or as a single value an entry with
/// `targetPath` may take.
fn candidates(
    tree: &HeadTree<'_>,
    values_files: &[&BlobRef],
    data_files: &[&BlobRef],
    singles: bool,
    kustomization: Option<&Layer>,
    notices: &mut Vec<String>,
) -> Result<Vec<Candidate>, GitError> {
    let mut found = Vec::new();
    for blob in values_files {
        let path = blob.path.as_str();
        for generated in kustomization.map_or(&[][..], |k| &k.generated) {
            if generated.file == path {
                found.push(Candidate {
                    path: path.to_string(),
                    kind: generated.kind.clone(),
                    name: generated.name.clone(),
                    namespace: generated.namespace.clone(),
                    key: generated.key.clone(),
                    holder: None,
                    single: false,
                });
            }
        }
    }
    for blob in data_files {
        let path = blob.path.as_str();
        let mut blocks = 0;
        let Some(file) = tree.load(path)? else {
            continue;
        };
        if singles && is_kustomization_file(path) {
            for doc in &file.parsed.documents {
                for literal in generated_literals(&doc.root, file.source.text()) {
                    found.push(Candidate {
                        path: path.to_string(),
                        kind: literal.kind.clone(),
                        name: literal.name.clone(),
                        namespace: literal.namespace.clone(),
                        key: literal.key.clone(),
                        holder: Some(literal_holder(&literal)),
                        single: true,
                    });
                }
            }
        }
        'documents: for doc in &file.parsed.documents {
            let Some(id) = ObjectId::of(&doc.root).filter(|id| data_key(id).is_some()) else {
                continue;
            };
            if is_sops_encrypted(&doc.root) {
                continue;
            }
            let data = doc.root.get(data_key(&id).unwrap_or_default());
            for (key, value) in data.and_then(Node::as_mapping).unwrap_or_default() {
                let Some(key) = key.scalar_text() else {
                    continue;
                };
                let namespace = id
                    .namespace
                    .clone()
                    .or_else(|| kustomization.and_then(|k| k.namespace.clone()));
                let single = !is_literal_block(value, &file);
                if single && !(singles && value.scalar_text().is_some()) {
                    continue;
                }
                if !single {
                    blocks += 1;
                    if blocks > MAX_BLOCKS_PER_FILE {
                        notices.push(format!(
                            "{path}: more than {MAX_BLOCKS_PER_FILE} ConfigMap/Secret keys hold literal blocks; \
                             only the first {MAX_BLOCKS_PER_FILE} are read as Helm values for `valuesFrom`"
                        ));
                        break 'documents;
                    }
                }
                found.push(Candidate {
                    path: path.to_string(),
                    kind: id.kind.clone(),
                    name: id.name.clone(),
                    namespace,
                    key: key.to_string(),
                    holder: Some(id.clone()),
                    single,
                });
            }
        }
    }
    Ok(found)
}

/// A HelmRelease and the values it takes.
struct Release {
    id: ObjectId,
    /// The file that defines it.
    file: String,
    name: String,
    namespace: Option<String>,
    entries: Vec<ValuesFrom>,
    /// For each entry, what the value it sets is part of, when it is an
    /// entry with `targetPath` that sets a part of an image.
    targets: Vec<Option<Target>>,
}

impl Release {
    /// The entries whose values matter to images: each values document,
    /// and each entry with `targetPath` setting a part of one.
    fn takes(&self) -> impl Iterator<Item = (&ValuesFrom, Option<&Target>)> {
        self.entries
            .iter()
            .zip(&self.targets)
            .filter(|(entry, target)| entry.target.is_none() || target.is_some())
            .map(|(entry, target)| (entry, target.as_ref()))
    }
}

/// The HelmReleases that can take values from `files`: in those files, in
/// the kustomization's resources, or (without one) in the directory.
fn releases(
    tree: &HeadTree<'_>,
    dir: &str,
    files: &[&BlobRef],
    kustomization: Option<&Layer>,
) -> Result<Vec<Release>, GitError> {
    let files = files.iter().map(|f| f.path.clone()).collect();
    let mut releases = Vec::new();
    for path in beside(tree, dir, files, kustomization)? {
        let Some(file) = tree.load(&path)? else {
            continue;
        };
        if !file.source.text().contains("valuesFrom") {
            continue;
        }
        releases.extend(releases_in(&file, kustomization));
    }
    Ok(releases)
}

/// The HelmReleases of one file that take values with `valuesFrom`.
fn releases_in(file: &LoadedFile, kustomization: Option<&Layer>) -> Vec<Release> {
    let mut releases = Vec::new();
    for doc in &file.parsed.documents {
        let Some(id) = ObjectId::of(&doc.root).filter(is_helm_release) else {
            continue;
        };
        let entries = values_from(&doc.root);
        if entries.is_empty() {
            continue;
        }
        let namespace = id
            .namespace
            .clone()
            .or_else(|| kustomization.and_then(|k| k.namespace.clone()));
        // Named as the cluster will know it: in the kustomization's namespace.
        let name = match &namespace {
            Some(namespace) => format!("{namespace}/{}", id.name),
            None => id.name.clone(),
        };
        let targets = (0..entries.len())
            .map(|index| target::analyse(&doc.root, &entries, index, &file.source))
            .collect();
        releases.push(Release {
            id,
            file: file.source.path.clone(),
            name,
            namespace,
            entries,
            targets,
        });
    }
    releases
}

/// Where a ConfigMap or (plain) Secret keeps string values.
fn data_key(id: &ObjectId) -> Option<&'static str> {
    match (id.group.as_str(), id.kind.as_str()) {
        ("", "ConfigMap") => Some("data"),
        ("", "Secret") => Some("stringData"),
        _ => None,
    }
}

fn data_field(id: &ObjectId) -> &'static str {
    data_key(id).unwrap_or("data")
}

/// The image references of the values a role names in `file`.
pub fn image_sites(file: &LoadedFile, role: &ValuesRole) -> Vec<ImageSite> {
    let prefix = role.prefix();
    if let (Some((id, key)), Some(target)) = (&role.holder, &role.target) {
        return single_values(file, id)
            .iter()
            .filter_map(|data| {
                target::site(
                    data.get(key)?,
                    Some(data),
                    target,
                    &target::field(&prefix, target),
                )
            })
            .collect();
    }
    match &role.holder {
        None => file
            .parsed
            .documents
            .first()
            .filter(|doc| doc.root.as_mapping().is_some() && ObjectId::of(&doc.root).is_none())
            .map(|doc| values_sites(&doc.root, &prefix))
            .unwrap_or_default(),
        Some((id, key)) => blocks(file, id, key)
            .filter(|block| block.parsed.error.is_none() && block.parsed.documents.len() == 1)
            .flat_map(|block| block.image_sites(&prefix))
            .collect(),
    }
}

/// Where the values a role names fail to parse, and libyaml's message:
/// Flux cannot install the release with them. Only for a literal block
/// (a values file that fails is reported as a file).
pub fn values_error(file: &LoadedFile, role: &ValuesRole) -> Option<(Span, String)> {
    if role.target.is_some() {
        return None;
    }
    let (id, key) = role.holder.as_ref()?;
    blocks(file, id, key).find_map(|block| {
        let error = block.parsed.error.as_ref()?;
        Some((block.moved(error.span), error.message.clone()))
    })
}

/// The literal blocks at key `key` of the object `id` in `file`, parsed.
fn blocks<'a>(
    file: &'a LoadedFile,
    id: &'a ObjectId,
    key: &'a str,
) -> impl Iterator<Item = Block> + 'a {
    holder_data(file, id)
        .filter_map(move |data| data.get(key))
        .filter_map(|value| literal_block(value, file))
}

/// What a generator literal is held by: the object it generates.
fn literal_holder(literal: &GeneratedLiteral) -> ObjectId {
    ObjectId {
        group: String::new(),
        kind: literal.kind.clone(),
        namespace: literal.namespace.clone(),
        name: literal.name.clone(),
    }
}

/// The string data of the object `id` as written in `file`: its `data`
/// (or a Secret's `stringData`), or in a kustomization, the literals of the
/// generator that makes it, as a map of key to value.
fn single_values(file: &LoadedFile, id: &ObjectId) -> Vec<Node> {
    let mut data: Vec<Node> = holder_data(file, id).cloned().collect();
    if is_kustomization_file(&file.source.path) {
        let literals: Vec<(Node, Node)> = file
            .parsed
            .documents
            .iter()
            .flat_map(|doc| generated_literals(&doc.root, file.source.text()))
            .filter(|l| l.kind == id.kind && l.name == id.name)
            .map(|l| {
                let key = Node {
                    span: l.value.span,
                    value: crate::yaml::Value::Scalar(crate::yaml::Scalar {
                        text: l.key,
                        plain: true,
                        tag: None,
                    }),
                };
                (key, l.value)
            })
            .collect();
        if !literals.is_empty() {
            data.push(Node {
                span: Span::default(),
                value: crate::yaml::Value::Mapping(literals),
            });
        }
    }
    data
}

/// The single values at `key` of the holder `id` in the head file `path`
/// (a ConfigMap/Secret key or a generator literal), with where each is
/// written.
fn single_values_at(
    tree: &HeadTree<'_>,
    path: &str,
    id: &ObjectId,
    key: &str,
) -> Result<Vec<(String, crate::finding::Location)>, GitError> {
    let Some(file) = tree.load(path)? else {
        return Ok(Vec::new());
    };
    Ok(single_values(&file, id)
        .iter()
        .filter_map(|data| crate::k8s::part(data, key))
        .map(|(text, node)| {
            let at = crate::finding::Location::new(&file.source, node.span);
            (text.to_string(), at)
        })
        .collect())
}

/// The string data (`data`, or a Secret's `stringData`) of the object `id`
/// in `file`, unless it is SOPS-encrypted.
fn holder_data<'a>(file: &'a LoadedFile, id: &'a ObjectId) -> impl Iterator<Item = &'a Node> + 'a {
    file.parsed
        .documents
        .iter()
        .filter(move |doc| ObjectId::of(&doc.root).as_ref() == Some(id))
        .filter(|doc| !is_sops_encrypted(&doc.root))
        .filter_map(move |doc| doc.root.get(data_field(id)))
}

/// Whether a value is written as a literal block scalar (`key: |`); its
/// content is parsed only for a release that takes it.
fn is_literal_block(value: &Node, file: &LoadedFile) -> bool {
    value.scalar_text().is_some()
        && file
            .source
            .text()
            .get(value.span.start..)
            .is_some_and(|text| text.starts_with('|'))
}

/// The values in a literal block scalar (`key: |`), parsed, with positions
/// in `file`: a literal block's lines are its value as written (indented),
/// so they are parsed where they stand and every position moved by where
/// they start. The work is that of the block alone, however many a file
/// holds. Other scalar styles fold or escape their text, so positions
/// inside them cannot be kept: `None`, as for an empty block.
fn literal_block(value: &Node, file: &LoadedFile) -> Option<Block> {
    if !is_literal_block(value, file) {
        return None;
    }
    let text = file.source.text();
    let start = value.span.start + text[value.span.start..].find('\n')? + 1;
    let end = value.span.end.min(text.len());
    let lines = text.get(start..end).filter(|lines| !lines.is_empty())?;
    let parsed = crate::yaml::parse(lines, &Limits::default());
    Some(Block { parsed, start })
}

/// A literal block's values, parsed from its lines, which start at `start`.
struct Block {
    parsed: crate::yaml::ParsedYaml,
    start: usize,
}

impl Block {
    fn moved(&self, span: Span) -> Span {
        Span::new(span.start + self.start, span.end + self.start)
    }

    fn image_sites(&self, prefix: &str) -> Vec<ImageSite> {
        let moved = |span: Span| self.moved(span);
        let Some(doc) = self.parsed.documents.first() else {
            return Vec::new();
        };
        values_sites(&doc.root, prefix)
            .into_iter()
            .map(|mut site| {
                site.span = moved(site.span);
                for (span, _) in &mut site.related {
                    *span = moved(*span);
                }
                for (_, span) in &mut site.parts {
                    *span = moved(*span);
                }
                site
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Side;

    fn loaded(text: &str) -> LoadedFile {
        crate::load::parse_bytes(
            Side::Head,
            "values.yaml",
            text.as_bytes().to_vec(),
            &Limits::default(),
        )
    }

    fn sites_of(text: &str) -> Vec<(String, String)> {
        let file = loaded(text);
        let id = ObjectId::of(&file.parsed.documents[0].root).unwrap();
        let role = ValuesRole {
            holder: Some((id, "values.yaml".into())),
            release: "apps/x".into(),
            release_file: "apps/x.yaml".into(),
            target: None,
        };
        image_sites(&file, &role)
            .iter()
            .map(|site| {
                let at = file.source.position(site.span.start);
                (
                    site.reference.clone().unwrap(),
                    format!("{}:{}", at.line, at.column),
                )
            })
            .collect()
    }

    fn config_map(value: &str) -> String {
        format!("# é, a character of two bytes before the block\nkind: ConfigMap\nmetadata: {{name: v}}\ndata:\n  values.yaml: {value}\n  other: x\n")
    }

    #[test]
    fn a_literal_block_keeps_the_positions_of_its_values() {
        let text = config_map("|\n    image:\n      repository: r.test/a\n      tag: \"1.0\"\n");
        assert_eq!(
            sites_of(&text),
            [("r.test/a:1.0".to_string(), "8:12".to_string())]
        );
        for indicator in ["|-", "|+", "|2", "|2-"] {
            let text = config_map(&format!("{indicator}\n    image: r.test/b:2\n"));
            assert_eq!(
                sites_of(&text),
                [("r.test/b:2".to_string(), "6:12".to_string())],
                "{indicator}"
            );
        }
    }

    #[test]
    fn other_scalar_styles_and_non_yaml_give_nothing() {
        for value in [
            ">\n    image: r.test/a:1\n",
            "\"image: r.test/a:1\"",
            "'image: r.test/a:1'",
            "image-r.test",
            "|\n    image: [unclosed\n",
            "|\n    ---\n    image: r.test/a:1\n",
            "|\n",
            "|",
        ] {
            assert!(sites_of(&config_map(value)).is_empty(), "{value:?}");
        }
    }

    #[test]
    fn a_whole_values_file_is_read_as_values_but_a_manifest_is_not() {
        let role = ValuesRole {
            holder: None,
            release: "apps/x".into(),
            release_file: "apps/x.yaml".into(),
            target: None,
        };
        let values = loaded("image:\n  repository: r.test/a\n  tag: \"3\"\n");
        assert_eq!(image_sites(&values, &role).len(), 1);
        let manifest = loaded("kind: Pod\nmetadata: {name: p}\nimage: r.test/a:3\n");
        assert!(image_sites(&manifest, &role).is_empty());
    }
}
