use super::*;
use crate::source::Side;
use crate::yaml::Limits;

fn root(text: &str) -> (Node, std::sync::Arc<SourceText>) {
    let parsed = crate::yaml::parse(text, &Limits::default());
    let source = SourceText::new("apps/release.yaml", Side::Head, text.to_string());
    (parsed.documents[0].root.clone(), source)
}

/// A release taking `entries` (`kind/name/key -> targetPath`, or without
/// `->` a values document) with `values` as its `spec.values`.
fn release(values: &str, entries: &[&str]) -> String {
    let mut text = String::from(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app}\nspec:\n  valuesFrom:\n",
    );
    for entry in entries {
        let (source, target) = match entry.split_once(" -> ") {
            Some((source, target)) => (source, Some(target)),
            None => (*entry, None),
        };
        let mut fields = source.split('/');
        let (kind, name, key) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        text.push_str(&format!(
            "    - {{kind: {kind}, name: {name}, valuesKey: {key}"
        ));
        if let Some(target) = target {
            text.push_str(&format!(", targetPath: \"{target}\""));
        }
        text.push_str("}\n");
    }
    if !values.is_empty() {
        text.push_str(&format!("  values: {values}\n"));
    }
    text
}

fn target_of(values: &str, entries: &[&str], index: usize) -> Option<Target> {
    let (root, source) = root(&release(values, entries));
    let entries = crate::k8s::flux::values_from(&root);
    analyse(&root, &entries, index, &source)
}

/// The reference a ConfigMap's `data` makes at `key` for entry `index`,
/// and why it is incomplete.
fn composed(
    values: &str,
    entries: &[&str],
    index: usize,
    data: &str,
    key: &str,
) -> Option<(String, Option<String>, Option<ChartSupplies>)> {
    let target = target_of(values, entries, index)?;
    let data = crate::yaml::parse(data, &Limits::default()).documents[0]
        .root
        .clone();
    let site = site(data.get(key)?, Some(&data), &target, "data[x]")?;
    Some((
        site.reference.unwrap(),
        site.incomplete,
        site.chart_supplies,
    ))
}

#[test]
fn a_tag_completes_the_repository_the_release_writes() {
    let entries = ["ConfigMap/versions/tag -> image.tag"];
    let values = "{image: {repository: r.test/app}}";
    assert_eq!(
        composed(values, &entries, 0, "{tag: \"1.2\"}", "tag"),
        Some(("r.test/app:1.2".into(), None, None))
    );
    let target = target_of(values, &entries, 0).unwrap();
    assert_eq!(target.written.len(), 1);
    assert_eq!(target.written[0].at.start.line, 7);
    // With a registry beside it.
    assert_eq!(
        composed(
            "{image: {registry: r.test/, repository: app}}",
            &entries,
            0,
            "{tag: \"1.2\"}",
            "tag"
        )
        .unwrap()
        .0,
        "r.test/app:1.2"
    );
}

#[test]
fn parts_may_come_from_other_keys_of_the_same_config_map() {
    let entries = [
        "ConfigMap/versions/repo -> image.repository",
        "ConfigMap/versions/tag -> image.tag",
    ];
    assert_eq!(
        composed("", &entries, 1, "{repo: r.test/app, tag: \"2\"}", "tag"),
        Some(("r.test/app:2".into(), None, None))
    );
    assert_eq!(
        composed("", &entries, 0, "{repo: r.test/app, tag: \"2\"}", "repo"),
        Some(("r.test/app:2".into(), None, None))
    );
    // From another ConfigMap: not read with it, so unsure.
    let elsewhere = [
        "ConfigMap/repos/repo -> image.repository",
        "ConfigMap/versions/tag -> image.tag",
    ];
    let (_, why, supplies) = composed("", &elsewhere, 1, "{tag: \"2\"}", "tag").unwrap();
    assert!(why.unwrap().contains("ConfigMap repos"));
    assert_eq!(supplies, None);
}

#[test]
fn a_missing_part_is_left_to_the_chart_unless_a_document_may_set_it() {
    let entries = ["ConfigMap/versions/tag -> image.tag"];
    assert_eq!(
        composed("", &entries, 0, "{tag: \"3\"}", "tag"),
        Some((
            format!("{CHART_REPOSITORY}:3"),
            Some("no repository here: the chart's default values supply it".into()),
            Some(ChartSupplies::Repository)
        ))
    );
    let with_document = [
        "ConfigMap/values/values.yaml",
        "ConfigMap/versions/tag -> image.tag",
    ];
    let (_, why, supplies) = composed("", &with_document, 1, "{tag: \"3\"}", "tag").unwrap();
    assert!(why.unwrap().contains("may set the rest of the image"));
    assert_eq!(supplies, None);
    // A document taken after it may replace the value itself.
    let document_after = [
        "ConfigMap/versions/tag -> image.tag",
        "ConfigMap/values/values.yaml",
    ];
    let (_, why, _) = composed(
        "{image: {repository: r.test/app}}",
        &document_after,
        0,
        "{tag: \"3\"}",
        "tag",
    )
    .unwrap();
    assert!(why.unwrap().contains("may set `image.tag` again"));
}

#[test]
fn a_value_that_never_deploys_is_no_image() {
    // `spec.values` is merged over it.
    assert!(target_of(
        "{image: {repository: r.test/app, tag: \"1\"}}",
        &["ConfigMap/versions/tag -> image.tag"],
        0
    )
    .is_none());
    // A later entry sets the same path.
    assert!(target_of(
        "",
        &[
            "ConfigMap/versions/tag -> image.tag",
            "ConfigMap/pins/tag -> image.tag"
        ],
        0
    )
    .is_none());
    // Not a part of an image.
    for path in [
        "resources.limits.cpu",
        "ingress.tag",
        "replicaCount",
        "image",
    ] {
        let is_image = target_of("", &[&format!("ConfigMap/v/k -> {path}")], 0).is_some();
        assert_eq!(is_image, path == "image", "{path}");
    }
    // An empty value leaves the chart's default.
    assert_eq!(
        composed(
            "",
            &["ConfigMap/v/tag -> image.tag"],
            0,
            "{tag: \"\"}",
            "tag"
        ),
        None
    );
}

#[test]
fn string_images_and_their_tags() {
    let entries = ["ConfigMap/v/image -> controller.image"];
    assert_eq!(
        composed("", &entries, 0, "{image: \"r.test/c:1\"}", "image"),
        Some(("r.test/c:1".into(), None, None))
    );
    let (reference, _, supplies) = composed("", &entries, 0, "{image: r.test/c}", "image").unwrap();
    assert_eq!(
        (reference.as_str(), supplies),
        ("r.test/c", Some(ChartSupplies::Tag))
    );
    assert_eq!(
        target_of("", &entries, 0).unwrap().image_path,
        "controller.image"
    );
    assert_eq!(
        composed(
            "{image: r.test/old}",
            &["ConfigMap/v/t -> imageTag"],
            0,
            "{t: \"6.0\"}",
            "t"
        )
        .unwrap()
        .0,
        "r.test/old:6.0"
    );
    assert!(target_of("", &["ConfigMap/v/t -> imageTag"], 0).is_none());
}
