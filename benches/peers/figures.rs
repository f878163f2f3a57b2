//! The four figures of issue 7, each measured against its peer and target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::generate::{self, PR_FILE, RESOURCES_PER_APP};
use crate::measure::{alternate, median, Cmd};
use crate::registry::{media::ACCEPT_ALL_MANIFESTS, TestRegistry, Tool};
use crate::seed::{self, References};
use crate::Options;

/// Seed of every generated repository.
pub const SEED: u64 = 7;
/// 2,000 apps of 25 resources: the 50,000-resource repository.
pub const BIG_APPS: usize = 2_000;
/// 4 apps of 25 resources: the 100-resource repository.
pub const SMALL_APPS: usize = 4;

/// One line of the results table.
pub struct Row {
    pub figure: &'static str,
    pub what: String,
    pub fluxgate: Duration,
    /// The peer's name and median, when there is one.
    pub peer: Option<(String, Duration)>,
    pub ratio: String,
    pub target: &'static str,
    pub pass: bool,
    pub requests: String,
    pub rss: String,
}

/// A temporary home: no real Docker credentials, no CI variables.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("fluxgate-bench-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("docker")).expect("docker dir");
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn fluxgate(&self, args: &[&str]) -> Cmd {
        Cmd::new(env!("CARGO_BIN_EXE_fluxgate"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("XDG_RUNTIME_DIR", self.path("xdg"))
            .env("REGISTRY_AUTH_FILE", self.path("no-auth.json"))
            .env("NO_COLOR", "1")
    }

    fn check(&self, repo: &Path, args: &[&str]) -> Cmd {
        let repo = repo.to_str().expect("UTF-8 temp path");
        let mut all = vec!["check", "--repo", repo, "--format", "json"];
        all.extend_from_slice(args);
        self.fluxgate(&all)
    }
}

pub fn run_all(options: &Options) -> Vec<Row> {
    let env = Env::new();
    let wants = |name: &str| options.only.as_deref().is_none_or(|only| only == name);
    let mut rows = Vec::new();
    if wants("registry") {
        rows.extend(registry_checks(&env, options));
    }
    if wants("tree") || wants("pr") {
        eprintln!("generating the {BIG_APPS}-app and {SMALL_APPS}-app repositories ...");
        let big = env.path("big");
        let tree = generate::write_gitops_repo(&big, BIG_APPS, SEED);
        let small = env.path("small");
        generate::write_gitops_repo(&small, SMALL_APPS, SEED);
        let mib = tree.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / (1024.0 * 1024.0);
        let shape = format!(
            "{} resources in {} files ({mib:.0} MiB of YAML)",
            thousands(generate::count_documents(&tree)),
            thousands(tree.len())
        );
        if wants("tree") {
            rows.push(full_tree(&env, options, &big, &shape));
        }
        if wants("pr") {
            rows.extend(one_file_pr(&env, options, &big, &small, &shape));
        }
    }
    if wants("version") {
        rows.push(version(&env, options));
    }
    rows
}

/// Figure 1: 500 unique references against a loopback registry.
fn registry_checks(env: &Env, options: &Options) -> Vec<Row> {
    eprintln!("starting the registry and seeding 400 tags ...");
    let registry = TestRegistry::plain();
    let references = References::new(400, 100);
    seed::seed(&registry, &references);
    let all = references.all(SEED);
    let host = registry.host();
    let repo = env.path("registry-pr");
    seed::write_pr_repo(&repo, &host, &all);

    let fluxgate = env
        .check(
            &repo,
            &["--base", "main", "--head", "feature", "--jobs", "16"],
        )
        .ok_codes(&[1]);
    let curl = Cmd::new(
        Tool {
            bin: "curl",
            package: "curl",
        }
        .path(),
    )
    .args([
        "--parallel",
        "--parallel-max",
        "16",
        "-s",
        "-I",
        "--noproxy",
        "*",
    ])
    .args(["-H", &format!("Accept: {ACCEPT_ALL_MANIFESTS}")])
    .args(all.iter().map(|r| manifest_url(&registry, r)));
    let skopeo_bin = Tool {
        bin: "skopeo",
        package: "skopeo",
    }
    .path();
    let skopeo: Vec<Cmd> = all
        .iter()
        .map(|reference| {
            Cmd::new(&skopeo_bin)
                .args(["inspect", "--raw", "--tls-verify=false", "--no-creds"])
                .arg(format!("docker://{host}/{reference}"))
                .ok_codes(&[0, 1])
        })
        .collect();

    // Warm up (page cache, the registry's own caches) and check what each
    // tool gets right before timing anything.
    let json: serde_json::Value =
        serde_json::from_slice(&fluxgate.output()).expect("fluxgate prints JSON");
    let statuses: Vec<&str> = json["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| i["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "exists").count(),
        400,
        "{json:#}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == "missing").count(), 100);
    curl.time();
    skopeo[0].time();

    let mut flux_requests = BTreeSet::new();
    let mut curl_requests = BTreeSet::new();
    let mut skopeo_requests = BTreeSet::new();
    let counted = |requests: &mut BTreeSet<String>, run: &dyn Fn() -> Duration| {
        let before = registry.requests().len();
        let took = run();
        let log = registry.requests();
        let new = &log[before.min(log.len())..];
        let heads = new.iter().filter(|e| e.method == "HEAD").count();
        let gets_manifest = new
            .iter()
            .filter(|e| e.matches("GET", "/manifests/"))
            .count();
        let pings = new.iter().filter(|e| e.uri == "/v2/").count();
        requests.insert(format!(
            "{} = {heads} HEAD + {gets_manifest} GET manifest + {pings} GET /v2/",
            new.len()
        ));
        took
    };
    eprintln!(
        "registry: {} x fluxgate, {} x curl, {} x skopeo loop (500 runs each) ...",
        options.reps,
        options.reps,
        options.skopeo_reps.min(options.reps)
    );
    let samples = alternate(
        &mut [
            (
                &mut || counted(&mut flux_requests, &|| fluxgate.time()),
                options.reps,
            ),
            (
                &mut || counted(&mut curl_requests, &|| curl.time()),
                options.reps,
            ),
            (
                &mut || {
                    counted(&mut skopeo_requests, &|| {
                        skopeo.iter().map(Cmd::time).sum::<Duration>()
                    })
                },
                options.skopeo_reps,
            ),
        ],
        options.reps,
    );
    let (flux, curl_t, skopeo_t) = (
        median(&samples[0]),
        median(&samples[1]),
        median(&samples[2]),
    );
    let flux_usage = fluxgate.usage();
    let requests = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(" / ");
    let what = "500 unique references (400 exist, 100 missing), loopback registry, plain HTTP";
    vec![
        Row {
            figure: "1a",
            what: format!("{what}: `fluxgate check` vs `curl --parallel --parallel-max 16 -I` (same 500 HEADs, same Accept)"),
            fluxgate: flux,
            peer: Some(("curl".into(), curl_t)),
            ratio: format!("{:.2}x curl's time", ratio(flux, curl_t)),
            target: "<= 1.3x",
            pass: ratio(flux, curl_t) <= 1.3,
            requests: format!(
                "fluxgate {}; curl {}",
                requests(&flux_requests),
                requests(&curl_requests)
            ),
            rss: format!("fluxgate {flux_usage}; curl {}", curl.usage()),
        },
        Row {
            figure: "1b",
            what: format!("{what}: `fluxgate check` vs `skopeo inspect --raw` once per reference, sequentially"),
            fluxgate: flux,
            peer: Some(("skopeo loop".into(), skopeo_t)),
            ratio: format!(
                "{:.0}x faster (curl, the practical limit: {:.0}x)",
                ratio(skopeo_t, flux),
                ratio(skopeo_t, curl_t)
            ),
            target: ">= 30x faster",
            pass: ratio(skopeo_t, flux) >= 30.0,
            requests: format!("skopeo loop {}", requests(&skopeo_requests)),
            rss: format!(
                "fluxgate {flux_usage}; skopeo {} (one of the 500 runs)",
                skopeo[0].usage()
            ),
        },
    ]
}

fn manifest_url(registry: &TestRegistry, reference: &str) -> String {
    let (name, tag) = crate::registry::split_reference(reference);
    registry.url(&format!("/v2/{name}/manifests/{tag}"))
}

/// Figure 2: `--all --offline` over the whole 50,000-resource tree.
fn full_tree(env: &Env, options: &Options, big: &Path, shape: &str) -> Row {
    let cmd = env
        .check(
            big,
            &["--base", "main", "--head", "feature", "--all", "--offline"],
        )
        .ok_codes(&[0, 1]);
    let json: serde_json::Value = serde_json::from_slice(&cmd.output()).expect("JSON");
    let images = json["images"].as_array().expect("images").len();
    eprintln!(
        "full tree: {images} image references; {} runs ...",
        options.reps
    );
    let samples = alternate(&mut [(&mut || cmd.time(), options.reps)], options.reps);
    let took = median(&samples[0]);
    let usage = cmd.usage();
    let resources = (BIG_APPS * RESOURCES_PER_APP) as f64;
    // kubeconform's published figure, for scale (not measured here).
    let kubeconform_rate = 50_714.0 / 6.7;
    let rate = resources / took.as_secs_f64();
    Row {
        figure: "2",
        what: format!(
            "`check --all --offline` over {shape}, {} image references",
            thousands(images)
        ),
        fluxgate: took,
        peer: None,
        ratio: format!(
            "{} resources/s ({:.1}x kubeconform's published 7,569/s on 4 cores)",
            thousands(rate as usize),
            rate / kubeconform_rate
        ),
        target: "<= 2 s, <= 200 MB",
        pass: took <= Duration::from_secs(2) && usage.peak_rss_kib * 1024 <= 200_000_000,
        requests: "none (offline)".into(),
        rss: usage.to_string(),
    }
}

/// Figure 3: a one-file pull request in the big and in the small repository.
fn one_file_pr(env: &Env, options: &Options, big: &Path, small: &Path, shape: &str) -> Vec<Row> {
    let args = ["--base", "main", "--head", "feature", "--offline"];
    let big_cmd = env.check(big, &args).ok_codes(&[0, 1]);
    let small_cmd = env.check(small, &args).ok_codes(&[0, 1]);
    for cmd in [&big_cmd, &small_cmd] {
        let json: serde_json::Value = serde_json::from_slice(&cmd.output()).expect("JSON");
        let files: BTreeSet<&str> = json["images"]
            .as_array()
            .expect("images")
            .iter()
            .map(|i| i["file"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(files, BTreeSet::from([PR_FILE]), "only the changed file");
    }
    let reps = options.reps * 3;
    // A run after an earlier one in the same clone: the overlay index in
    // `.git/fluxgate` (left by the runs above) knows the unchanged trees.
    eprintln!("one-file PR, overlay index kept: {reps} runs each, alternating ...");
    let samples = alternate(
        &mut [
            (&mut || big_cmd.time(), reps),
            (&mut || small_cmd.time(), reps),
        ],
        reps,
    );
    let (big_t, small_t) = (median(&samples[0]), median(&samples[1]));
    let kept = pr_row(
        "3",
        format!("`check --offline` of a PR that edits 1 file, in the repository of {shape}, overlay index kept from an earlier run in the clone; peer: the same PR in a 100-resource repository"),
        (big_t, small_t),
        format!("{}; small repo {}", big_cmd.usage(), small_cmd.usage()),
    );
    // A fresh clone (CI): no index, so every tree and YAML file is read once.
    eprintln!("one-file PR, fresh clone: {reps} runs each, alternating ...");
    let forget = |repo: &Path| {
        let _ = std::fs::remove_dir_all(repo.join(".git/fluxgate"));
    };
    let samples = alternate(
        &mut [
            (
                &mut || {
                    forget(big);
                    big_cmd.time()
                },
                reps,
            ),
            (
                &mut || {
                    forget(small);
                    small_cmd.time()
                },
                reps,
            ),
        ],
        reps,
    );
    let (big_t, small_t) = (median(&samples[0]), median(&samples[1]));
    forget(big);
    let big_usage = big_cmd.usage();
    forget(small);
    let fresh = pr_row(
        "3'",
        "the same PR in a fresh clone (no overlay index yet: every tree and YAML file is read once, on both cores, to find the kustomizations that reach out and every Flux Kustomization); peer: the same in the 100-resource repository".to_string(),
        (big_t, small_t),
        format!("{big_usage}; small repo {}", small_cmd.usage()),
    );
    vec![kept, fresh]
}

/// A figure 3 row: the big repository's median against the small one's.
fn pr_row(
    figure: &'static str,
    what: String,
    (big_t, small_t): (Duration, Duration),
    rss: String,
) -> Row {
    Row {
        figure,
        what,
        fluxgate: big_t,
        peer: Some(("100-resource repo".into(), small_t)),
        ratio: format!("{:.2}x the small repo's time", ratio(big_t, small_t)),
        target: "<= 100 ms, <= 3x",
        pass: big_t <= Duration::from_millis(100) && ratio(big_t, small_t) <= 3.0,
        requests: "none (offline)".into(),
        rss,
    }
}

/// Figure 4: `fluxgate --version`, beside `git --version` for scale.
fn version(env: &Env, options: &Options) -> Row {
    let fluxgate = env.fluxgate(&["--version"]);
    let git = Cmd::new("git").arg("--version");
    fluxgate.time();
    git.time();
    let reps = (options.reps * 5).max(20);
    let samples = alternate(
        &mut [(&mut || fluxgate.time(), reps), (&mut || git.time(), reps)],
        reps,
    );
    let (took, git_t) = (median(&samples[0]), median(&samples[1]));
    Row {
        figure: "4",
        what: "`fluxgate --version` (startup); peer: `git --version`".into(),
        fluxgate: took,
        peer: Some(("git --version".into(), git_t)),
        ratio: format!("{:.2}x git's time", ratio(took, git_t)),
        target: "<= 10 ms",
        pass: took <= Duration::from_millis(10),
        requests: "none".into(),
        rss: fluxgate.usage().to_string(),
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// `50000` -> `50,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
