use super::*;

fn yaml(text: &str) -> Node {
    crate::yaml::parse(text, &Limits::default()).documents[0]
        .root
        .clone()
}

fn defaults(values: &str, subcharts: &[(&str, &str)], chart_yaml: Option<&str>) -> Defaults {
    let files = ChartFiles {
        values: values.as_bytes().to_vec(),
        chart_yaml: chart_yaml.map(|c| c.as_bytes().to_vec()),
        subcharts: subcharts
            .iter()
            .map(|(name, values)| (name.to_string(), values.as_bytes().to_vec()))
            .collect(),
        global_reads: Default::default(),
    };
    Defaults::parse(files, &Limits::default()).unwrap()
}

fn composed(field: &str, written: &str, release: &str, chart: &str) -> Result<String, String> {
    let chart = defaults(chart, &[], None);
    let supplies = if written.starts_with(CHART_REPOSITORY) {
        ChartSupplies::Repository
    } else {
        ChartSupplies::Tag
    };
    compose(
        field,
        written,
        supplies,
        Some(&yaml(release)),
        &chart,
        "podinfo 6.5.4",
    )
    .map(|(r, _)| r)
}

const TAG: &str = "<repository from the chart>:6.5.9";

#[test]
fn the_charts_repository_and_registry_complete_the_tag() {
    let chart = "image:\n  repository: ghcr.io/stefanprodan/podinfo\n  tag: \"\"\n";
    assert_eq!(
        composed("image", TAG, "image: {tag: 6.5.9}", chart).unwrap(),
        "ghcr.io/stefanprodan/podinfo:6.5.9"
    );
    let bitnami = "image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2.4\n";
    assert_eq!(
        composed("image", TAG, "image: {tag: 6.5.9}", bitnami).unwrap(),
        "docker.io/bitnami/redis:6.5.9"
    );
    // An empty registry in the release clears the chart's.
    assert_eq!(
        composed("image", TAG, "image: {tag: 6.5.9, registry: ''}", bitnami).unwrap(),
        "bitnami/redis:6.5.9"
    );
    // The release's own registry wins over the chart's.
    assert_eq!(
        composed(
            "image",
            TAG,
            "image: {tag: 6.5.9, registry: mirror.test/}",
            bitnami
        )
        .unwrap(),
        "mirror.test/bitnami/redis:6.5.9"
    );
    let nested = "sidecars:\n  - name: a\n    image:\n      image: r.test/side\n";
    assert_eq!(
        composed("sidecars[0].image", TAG, "{}", nested).unwrap(),
        "r.test/side:6.5.9"
    );
    let digest = "<repository from the chart>@sha256:aaaa";
    assert_eq!(
        composed("image", digest, "{}", chart).unwrap(),
        "ghcr.io/stefanprodan/podinfo@sha256:aaaa"
    );
}

#[test]
fn what_the_chart_may_do_otherwise_stays_unresolved() {
    let cases = [
        ("image: {tag: x}", "the chart has no map there"),
        ("image: {pullPolicy: Always}", "no repository"),
        (
            "image: {repository: r.test/a, digest: 'sha256:bbbb'}",
            "a digest the templates may prefer",
        ),
        (
            "image: {repository: '{{ .Values.base }}/a'}",
            "a template expression",
        ),
        ("other: {repository: r.test/a}", "nothing at the path"),
    ];
    for (chart, why) in cases {
        assert!(
            composed("image", TAG, "{}", chart).is_err(),
            "{why}: {chart}"
        );
    }
    assert!(compose(
        "image",
        TAG,
        ChartSupplies::Repository,
        Some(&yaml("{}")),
        &defaults("", &[], None),
        "c 1"
    )
    .is_err());
}

#[test]
fn the_charts_global_registries_are_found() {
    let registries = |values: &str, sub: &[(&str, &str)], path: &str| {
        let steps = crate::helm_path::parse(path).unwrap();
        defaults(values, sub, None).global_registries(&steps)
    };
    let found = registries(
        "global: {imageRegistry: m.test, image: {registry: n.test}, registrySecret: s, podLabels: {a: b}}",
        &[],
        "image",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            ("image.registry".to_string(), "n.test".to_string()),
            ("imageRegistry".to_string(), "m.test".to_string())
        ]
    );
    // An empty one is the chart's way of saying "none".
    assert!(registries("global: {imageRegistry: ''}", &[], "image").is_empty());
    assert!(registries("image: {registry: m.test}", &[], "image").is_empty());
    // A subchart's, under the parent's.
    let sub = [("redis", "global: {imageRegistry: s.test}")];
    assert_eq!(
        registries("{}", &sub, "redis.image")["imageRegistry"],
        "s.test"
    );
    assert!(registries("{}", &sub, "image").is_empty());
    let parent = "global: {imageRegistry: p.test}";
    assert_eq!(
        registries(parent, &sub, "redis.image")["imageRegistry"],
        "p.test"
    );
}

#[test]
fn a_repository_only_override_takes_the_charts_tag() {
    let chart = "image:\n  repository: ghcr.io/stefanprodan/podinfo\n  tag: 6.5.4\n";
    assert_eq!(
        composed("image", "mirror.test/podinfo", "{}", chart).unwrap(),
        "mirror.test/podinfo:6.5.4"
    );
    // An empty tag leaves it to the templates (often the appVersion): no guess.
    let empty = "image:\n  repository: r\n  tag: \"\"\n";
    assert!(composed("image", "mirror.test/podinfo", "{}", empty)
        .unwrap_err()
        .contains("leaves `image.tag` empty"));
    let pinned = "image:\n  repository: r\n  tag: 1\n  digest: sha256:aa\n";
    assert!(composed("image", "mirror.test/podinfo", "{}", pinned).is_err());
    let templated = "image:\n  tag: \"{{ .Chart.AppVersion }}\"\n";
    assert!(composed("image", "mirror.test/podinfo", "{}", templated).is_err());
}

#[test]
fn a_string_image_takes_the_tag_beside_it_in_the_chart() {
    let chart = "image: bitnami/redis\nimageTag: 6.0.1\n";
    assert_eq!(
        composed("image", "mirror.test/redis", "{}", chart).unwrap(),
        "mirror.test/redis:6.0.1"
    );
    assert!(composed("image", "mirror.test/redis", "{}", "image: bitnami/redis\n").is_err());
}

#[test]
fn values_from_may_set_only_what_makes_the_image() {
    let entry = |key: &str, target: Option<&str>| ValuesFrom {
        kind: "ConfigMap".into(),
        name: "v".into(),
        key: key.into(),
        target: target.map(str::to_string),
    };
    let unrelated = [
        entry("cpu", Some("resources.limits.cpu")),
        entry("pull", Some("image.pullPolicy")),
        entry("other", Some("sidecar.image.tag")),
    ];
    assert_eq!(values_from_may_set(&unrelated, "image"), None);
    for target in ["image.registry", "image.repository", "image.tag", "image"] {
        let why = values_from_may_set(&[entry("k", Some(target))], "image").unwrap();
        assert!(why.contains(&format!("sets `{target}`")), "{why}");
    }
    let why = values_from_may_set(&[entry("values.yaml", None)], "image").unwrap();
    assert!(why.contains("values document"), "{why}");
}

#[test]
fn a_subcharts_defaults_complete_what_the_parent_leaves() {
    let stack = defaults(
        "grafana:\n  adminUser: admin\nredis:\n  image:\n    tag: 7.2.0\n",
        &[
            ("grafana", "image:\n  repository: grafana/grafana\n  tag: 10.0.0\n"),
            ("redis", "image:\n  repository: bitnami/redis\n  tag: 6.0.0\n"),
            ("common", "image:\n  repository: never/used\n"),
        ],
        Some("dependencies:\n  - name: redis\n  - name: grafana\n  - name: common\n    alias: shared\n"),
    );
    let compose_with = |field: &str, written: &str, supplies| {
        compose(field, written, supplies, None, &stack, "stack 1.0").map(|(r, _)| r)
    };
    assert_eq!(
        compose_with("grafana.image", TAG, ChartSupplies::Repository).unwrap(),
        "grafana/grafana:6.5.9"
    );
    // The parent's values override the subchart's: its tag wins.
    assert_eq!(
        compose_with("redis.image", "mirror.test/redis", ChartSupplies::Tag).unwrap(),
        "mirror.test/redis:7.2.0"
    );
    // Under its alias only.
    assert!(compose_with("common.image", TAG, ChartSupplies::Repository).is_err());
    assert_eq!(
        compose_with("shared.image", TAG, ChartSupplies::Repository).unwrap(),
        "never/used:6.5.9"
    );
    let label = compose(
        "grafana.image",
        TAG,
        ChartSupplies::Repository,
        None,
        &stack,
        "stack 1.0",
    )
    .unwrap()
    .1;
    assert!(
        label.contains("chart stack 1.0's subchart `grafana`"),
        "{label}"
    );
}
