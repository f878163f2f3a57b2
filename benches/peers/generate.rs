//! A deterministic, seeded generator of GitOps repositories for the
//! benchmarks: apps of 25 resources in 5 files each (a kustomize
//! `kustomization.yaml`, a multi-document Deployment file, CronJobs, a Flux
//! HelmRelease with nested values, and RBAC/config objects), written straight
//! into a git object database with `git fast-import` (one pack, as a clone
//! has), never committed to fluxgate's own repository as data.
//!
//! Same seed and size, same bytes, same commit ids.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Resources (YAML documents) per generated app.
pub const RESOURCES_PER_APP: usize = 25;
/// Files per generated app.
pub const FILES_PER_APP: usize = 5;
/// The file the one-file pull request edits (in app 0).
pub const PR_FILE: &str = "clusters/prod/team-00/svc-0000/deployment.yaml";

/// splitmix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    fn semver(&mut self) -> String {
        format!(
            "{}.{}.{}",
            self.range(0, 9),
            self.range(0, 40),
            self.range(0, 20)
        )
    }
}

/// A generated tree: `(path, content)` sorted by path.
pub type Tree = Vec<(String, String)>;

/// The tree of `apps` apps (`apps * 25` resources in `apps * 5` files).
pub fn gitops_tree(apps: usize, seed: u64) -> Tree {
    let mut rng = Rng::new(seed);
    let mut files = Vec::with_capacity(apps * FILES_PER_APP);
    for index in 0..apps {
        let app = App::new(index, &mut rng);
        files.push((app.path("kustomization.yaml"), app.kustomization(&mut rng)));
        files.push((app.path("deployment.yaml"), app.deployment_file(&mut rng)));
        files.push((app.path("cronjobs.yaml"), app.cronjobs(&mut rng)));
        files.push((app.path("helmrelease.yaml"), app.helm_release(&mut rng)));
        files.push((app.path("config.yaml"), app.config(&mut rng)));
    }
    files.sort();
    files
}

/// The one-file change of the pull request benchmark: the tag of the
/// container named `app` in [`PR_FILE`].
pub fn bump_tag(content: &str) -> String {
    let container = content.find("- name: app\n").expect("an `app` container");
    let marker = "image: ";
    let start = container + content[container..].find(marker).expect("its image") + marker.len();
    let end = start + content[start..].find('\n').expect("line end");
    let colon = start + content[start..end].rfind(':').expect("a tag");
    format!("{}:9.9.9-bench{}", &content[..colon], &content[end..])
}

/// Number of YAML documents in a tree (documents are separated by `---`).
pub fn count_documents(tree: &Tree) -> usize {
    tree.iter()
        .map(|(_, text)| 1 + text.matches("\n---\n").count())
        .sum()
}

const REGISTRIES: &[&str] = &[
    "ghcr.io/acme",
    "registry.example.com/platform",
    "quay.io/acme",
    "docker.io/acme",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
];
const SIDECARS: &[&str] = &[
    "docker.io/envoyproxy/envoy",
    "ghcr.io/acme/log-shipper",
    "quay.io/prometheus/statsd-exporter",
    "docker.io/library/nginx",
];
const ENV_NAMES: &[&str] = &[
    "LOG_LEVEL",
    "DATABASE_URL",
    "CACHE_TTL",
    "FEATURE_FLAGS",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "HTTP_PORT",
    "WORKERS",
    "REGION",
    "QUEUE_NAME",
    "TIMEOUT_MS",
    "RETRIES",
    "TZ",
];

struct App {
    cluster: &'static str,
    team: String,
    name: String,
    image: String,
    tag: String,
}

impl App {
    fn new(index: usize, rng: &mut Rng) -> App {
        let cluster = ["prod", "staging", "dev", "edge"][index % 4];
        let registry = rng.pick(REGISTRIES);
        let name = format!("svc-{index:04}");
        App {
            cluster,
            team: format!("team-{:02}", (index / 4) % 25),
            image: format!("{registry}/{name}"),
            tag: rng.semver(),
            name,
        }
    }

    fn path(&self, file: &str) -> String {
        format!(
            "clusters/{}/{}/{}/{file}",
            self.cluster, self.team, self.name
        )
    }

    fn header(&self, out: &mut String, api: &str, kind: &str, name: &str) {
        let _ = write!(
            out,
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {}\n  labels:\n    app.kubernetes.io/name: {}\n    app.kubernetes.io/part-of: {}\n",
            self.team, self.name, self.team
        );
    }

    fn kustomization(&self, rng: &mut Rng) -> String {
        let mut out = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ",
        );
        let _ = write!(
            out,
            "{}\nresources:\n  - deployment.yaml\n  - cronjobs.yaml\n  - helmrelease.yaml\n  - config.yaml\nlabels:\n  - pairs:\n      team: {}\n      cluster: {}\nimages:\n  - name: {}\n    newTag: \"{}\"\n  - name: {}-migrate\n    newName: {}-migrations\n    newTag: {}\n",
            self.team, self.team, self.cluster, self.image, self.tag, self.image, self.image, rng.semver()
        );
        out
    }

    fn container(&self, out: &mut String, indent: &str, name: &str, image: &str, rng: &mut Rng) {
        let _ = write!(
            out,
            "{indent}- name: {name}\n{indent}  image: {image}\n{indent}  imagePullPolicy: IfNotPresent\n"
        );
        let envs = rng.range(2, 10);
        if envs > 0 {
            let _ = writeln!(out, "{indent}  env:");
            for e in 0..envs {
                let key = ENV_NAMES[(e + rng.range(0, 3)) % ENV_NAMES.len()];
                let _ = write!(
                    out,
                    "{indent}    - name: {key}_{e}\n{indent}      value: \"{}\"\n",
                    rng.next() % 100_000
                );
            }
        }
        let _ = write!(
            out,
            "{indent}  ports:\n{indent}    - name: http\n{indent}      containerPort: {}\n{indent}      protocol: TCP\n{indent}  resources:\n{indent}    requests:\n{indent}      cpu: {}m\n{indent}      memory: {}Mi\n{indent}    limits:\n{indent}      memory: {}Mi\n{indent}  readinessProbe:\n{indent}    httpGet:\n{indent}      path: /healthz\n{indent}      port: http\n{indent}    periodSeconds: 10\n",
            rng.range(8000, 9000),
            rng.range(50, 500),
            rng.range(64, 512),
            rng.range(512, 2048)
        );
    }

    fn deployment_file(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        self.header(&mut out, "apps/v1", "Deployment", &self.name);
        let _ = write!(
            out,
            "spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {}\n    spec:\n      serviceAccountName: {}\n      initContainers:\n",
            rng.range(1, 6),
            self.name,
            self.name,
            self.name
        );
        let migrate = format!("{}-migrations:{}", self.image, rng.semver());
        self.container(&mut out, "        ", "migrate", &migrate, rng);
        out.push_str("      containers:\n");
        let image = format!("{}:{}", self.image, self.tag);
        self.container(&mut out, "        ", "app", &image, rng);
        let sidecar = format!("{}:{}", rng.pick(SIDECARS), rng.semver());
        self.container(&mut out, "        ", "sidecar", &sidecar, rng);
        out.push_str(
            "      volumes:\n        - name: config\n          configMap:\n            name: ",
        );
        let _ = writeln!(out, "{}-config", self.name);

        out.push_str("---\n");
        self.header(&mut out, "v1", "Service", &self.name);
        let _ = write!(
            out,
            "spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n",
            self.name
        );
        out.push_str("---\n");
        self.header(&mut out, "v1", "ServiceAccount", &self.name);
        out.push_str("automountServiceAccountToken: false\n---\n");
        self.header(
            &mut out,
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            &self.name,
        );
        let _ = write!(
            out,
            "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {}\n  minReplicas: 2\n  maxReplicas: {}\n  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target:\n          type: Utilization\n          averageUtilization: {}\n",
            self.name,
            rng.range(4, 40),
            rng.range(50, 90)
        );
        out.push_str("---\n");
        self.header(&mut out, "policy/v1", "PodDisruptionBudget", &self.name);
        let _ = write!(
            out,
            "spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {}\n---\n",
            self.name
        );
        self.header(
            &mut out,
            "v1",
            "ConfigMap",
            &format!("{}-config", self.name),
        );
        out.push_str("data:\n");
        for line in 0..rng.range(3, 10) {
            let _ = writeln!(out, "  setting_{line}: \"{}\"", rng.next());
        }
        out
    }

    fn cronjobs(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        for (index, job) in ["cleanup", "report", "backup"].iter().enumerate() {
            if index > 0 {
                out.push_str("---\n");
            }
            self.header(
                &mut out,
                "batch/v1",
                "CronJob",
                &format!("{}-{job}", self.name),
            );
            let _ = write!(
                out,
                "spec:\n  schedule: \"{} {} * * *\"\n  concurrencyPolicy: Forbid\n  jobTemplate:\n    spec:\n      backoffLimit: 2\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n",
                rng.range(0, 59),
                rng.range(0, 23)
            );
            let image = format!("{}-{job}:{}", self.image, rng.semver());
            self.container(&mut out, "            ", job, &image, rng);
        }
        out
    }

    fn helm_release(&self, rng: &mut Rng) -> String {
        let mut out = String::new();
        self.header(
            &mut out,
            "source.toolkit.fluxcd.io/v1",
            "HelmRepository",
            &format!("{}-charts", self.name),
        );
        out.push_str("spec:\n  interval: 1h\n  url: https://charts.example.com/stable\n---\n");
        let release = format!("{}-cache", self.name);
        self.header(
            &mut out,
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            &release,
        );
        let _ = write!(
            out,
            "spec:\n  interval: 30m\n  chart:\n    spec:\n      chart: redis\n      version: {}\n      sourceRef:\n        kind: HelmRepository\n        name: {}-charts\n  values:\n    global:\n      imageRegistry: \"\"\n      storageClass: fast\n    image:\n      registry: docker.io\n      repository: bitnami/redis\n      tag: {}-debian-12-r{}\n    auth:\n      enabled: true\n      existingSecret: {}-redis\n    master:\n      persistence:\n        size: {}Gi\n      resources:\n        requests:\n          cpu: {}m\n          memory: {}Mi\n      sidecars:\n        - name: backup\n          image: ghcr.io/acme/redis-backup:{}\n          args: [\"--interval\", \"1h\"]\n    replica:\n      replicaCount: {}\n      podAnnotations:\n        team: {}\n    metrics:\n      enabled: true\n      image:\n        registry: docker.io\n        repository: bitnami/redis-exporter\n        tag: {}\n      serviceMonitor:\n        enabled: true\n        labels:\n          release: prometheus\n    sentinel:\n      enabled: false\n      image:\n        repository: bitnami/redis-sentinel\n        tag: {}\n---\n",
            rng.semver(),
            self.name,
            rng.semver(),
            rng.range(1, 40),
            self.name,
            rng.range(1, 100),
            rng.range(50, 500),
            rng.range(64, 4096),
            rng.semver(),
            rng.range(1, 5),
            self.team,
            rng.semver(),
            rng.semver()
        );
        self.header(
            &mut out,
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            &format!("{}-overlay", self.name),
        );
        let _ = write!(
            out,
            "spec:\n  interval: 10m\n  path: ./clusters/{}/{}/{}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  images:\n    - name: {}\n      newTag: {}\n",
            self.cluster,
            self.team,
            self.name,
            self.image,
            rng.semver()
        );
        out
    }

    fn config(&self, rng: &mut Rng) -> String {
        let mut docs = Vec::new();
        let mut doc = String::new();
        self.header(&mut doc, "rbac.authorization.k8s.io/v1", "Role", &self.name);
        doc.push_str("rules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\", \"secrets\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n");
        docs.push(doc);
        let mut doc = String::new();
        self.header(
            &mut doc,
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &self.name,
        );
        let _ = write!(
            doc,
            "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {}\nsubjects:\n  - kind: ServiceAccount\n    name: {}\n",
            self.name, self.name
        );
        docs.push(doc);
        for policy in ["ingress", "egress"] {
            let mut doc = String::new();
            self.header(
                &mut doc,
                "networking.k8s.io/v1",
                "NetworkPolicy",
                &format!("{}-{policy}", self.name),
            );
            let _ = write!(
                doc,
                "spec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {}\n  policyTypes: [{}]\n",
                self.name,
                if policy == "ingress" { "Ingress" } else { "Egress" }
            );
            docs.push(doc);
        }
        for index in 0..4 {
            let mut doc = String::new();
            self.header(
                &mut doc,
                "v1",
                "ConfigMap",
                &format!("{}-extra-{index}", self.name),
            );
            doc.push_str("data:\n");
            for line in 0..rng.range(2, 8) {
                let _ = writeln!(doc, "  key_{line}: value-{}", rng.next() % 1_000_000);
            }
            docs.push(doc);
        }
        for index in 0..2 {
            let mut doc = String::new();
            self.header(
                &mut doc,
                "v1",
                "Secret",
                &format!("{}-secret-{index}", self.name),
            );
            let _ = writeln!(
                doc,
                "type: Opaque\nstringData:\n  token: \"{:016x}\"",
                rng.next()
            );
            docs.push(doc);
        }
        let mut doc = String::new();
        self.header(&mut doc, "v1", "ResourceQuota", &self.name);
        let _ = write!(
            doc,
            "spec:\n  hard:\n    requests.cpu: \"{}\"\n    requests.memory: {}Gi\n",
            rng.range(2, 64),
            rng.range(4, 256)
        );
        docs.push(doc);
        let mut doc = String::new();
        self.header(&mut doc, "v1", "LimitRange", &self.name);
        doc.push_str(
            "spec:\n  limits:\n    - type: Container\n      default:\n        memory: 256Mi\n",
        );
        docs.push(doc);
        docs.join("---\n")
    }
}

/// One commit to write: its branch, parent (an earlier commit's index) and files.
pub struct CommitSpec<'a> {
    pub branch: &'a str,
    pub parent: Option<usize>,
    /// Files added or replaced (`M`), relative to the parent's tree.
    pub files: &'a [(String, String)],
    pub message: &'a str,
}

/// Creates a git repository in `dir` holding `commits` (in order), written by
/// `git fast-import` and repacked as a clone would be; `HEAD` names the last commit's branch.
pub fn write_repo(dir: &Path, commits: &[CommitSpec<'_>]) {
    run(Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .arg(dir));
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--done"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import starts");
    {
        let mut stream =
            std::io::BufWriter::new(child.stdin.take().expect("fast-import stdin is piped"));
        let mut mark = 0usize;
        let mut commit_marks = Vec::new();
        for (index, commit) in commits.iter().enumerate() {
            let first_blob = mark + 1;
            for (_, content) in commit.files {
                mark += 1;
                write!(stream, "blob\nmark :{mark}\ndata {}\n", content.len()).expect("write");
                stream.write_all(content.as_bytes()).expect("write");
                stream.write_all(b"\n").expect("write");
            }
            mark += 1;
            let time = 1_700_000_000 + 3600 * index;
            write!(
                stream,
                "commit refs/heads/{}\nmark :{mark}\nauthor bench <bench@fluxgate.invalid> {time} +0000\ncommitter bench <bench@fluxgate.invalid> {time} +0000\ndata {}\n{}\n",
                commit.branch,
                commit.message.len(),
                commit.message
            )
            .expect("write");
            if let Some(parent) = commit.parent {
                let parent_mark: usize = commit_marks[parent];
                writeln!(stream, "from :{parent_mark}").expect("write");
            }
            for (offset, (path, _)) in commit.files.iter().enumerate() {
                writeln!(stream, "M 100644 :{} {path}", first_blob + offset).expect("write");
            }
            stream.write_all(b"\n").expect("write");
            commit_marks.push(mark);
        }
        stream.write_all(b"done\n").expect("write");
    }
    let status = child.wait().expect("git fast-import runs");
    assert!(status.success(), "git fast-import failed: {status}");
    // fast-import stores each blob as a delta against the one written just
    // before it, whatever its path (a kustomization against the previous
    // app's config). A repository built by commits and `git gc`, or cloned
    // from a forge, gets its deltas from pack-objects, which pairs files of
    // the same name: repack so reads cost what they cost in a real clone.
    run(Command::new("git")
        .current_dir(dir)
        .args(["repack", "-a", "-d", "-f", "-q"]));
    if let Some(last) = commits.last() {
        run(Command::new("git")
            .current_dir(dir)
            .args(["symbolic-ref", "HEAD"])
            .arg(format!("refs/heads/{}", last.branch)));
    }
}

fn run(cmd: &mut Command) {
    let output = cmd.output().expect("git runs");
    assert!(
        output.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A repository of `apps` apps on `main` and a one-file pull request on
/// `feature` (the app container tag in [`PR_FILE`] bumped).
pub fn write_gitops_repo(dir: &Path, apps: usize, seed: u64) -> Tree {
    let tree = gitops_tree(apps, seed);
    let (_, original) = tree
        .iter()
        .find(|(path, _)| path == PR_FILE)
        .expect("the PR file is generated");
    let change = vec![(PR_FILE.to_string(), bump_tag(original))];
    write_repo(
        dir,
        &[
            CommitSpec {
                branch: "main",
                parent: None,
                files: &tree,
                message: "generated GitOps tree",
            },
            CommitSpec {
                branch: "feature",
                parent: Some(0),
                files: &change,
                message: "bump one tag",
            },
        ],
    );
    tree
}
