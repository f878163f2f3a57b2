//! `cargo bench --bench peers` (or `scripts/bench`): fluxgate against the
//! tools people use instead, side by side on this machine, for issue 7's four
//! figures. It starts a loopback registry from the test harness, seeds it,
//! generates the git repositories (deterministic, seeded), runs fluxgate and
//! the peers alternately, and prints a Markdown table: median wall times,
//! ratios against the targets, requests counted at the registry, peak RSS
//! (`/usr/bin/time -v`). `-- --update-readme` also writes the table into the
//! README's Performance section.
//!
//! Options (after `--`): `--reps N` (default 7), `--skopeo-reps N` (default 3),
//! `--only version|pr|tree|registry`, `--update-readme`,
//! `--generate DIR [--apps N]` (only write the generated 25-resources-per-app
//! repository to DIR, for profiling).
//!
//! Nothing here asserts on time: the table says pass or miss.

#[path = "../../tests/support/registry/mod.rs"]
mod registry;

mod figures;
mod generate;
mod measure;
mod seed;
mod table;

use std::path::PathBuf;

/// Options from the command line.
pub struct Options {
    /// `cargo bench` passes `--bench`; without it (e.g. `cargo test
    /// --all-targets`) nothing is measured.
    pub bench: bool,
    pub reps: usize,
    pub skopeo_reps: usize,
    pub only: Option<String>,
    pub update_readme: bool,
    pub generate: Option<PathBuf>,
    pub apps: usize,
}

fn parse_options() -> Options {
    let mut options = Options {
        bench: false,
        reps: 7,
        skopeo_reps: 3,
        only: None,
        update_readme: false,
        generate: None,
        apps: figures::BIG_APPS,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match arg.as_str() {
            "--bench" => options.bench = true,
            "--reps" => options.reps = value("--reps").parse().expect("--reps N"),
            "--skopeo-reps" => {
                options.skopeo_reps = value("--skopeo-reps").parse().expect("--skopeo-reps N")
            }
            "--only" => options.only = Some(value("--only")),
            "--update-readme" => options.update_readme = true,
            "--generate" => options.generate = Some(PathBuf::from(value("--generate"))),
            "--apps" => options.apps = value("--apps").parse().expect("--apps N"),
            other if other.starts_with("--") => {} // libtest-style flags cargo may pass
            _ => {}                                // a name filter: everything runs
        }
    }
    options
}

fn main() {
    let options = parse_options();
    if let Some(dir) = &options.generate {
        let tree = generate::write_gitops_repo(dir, options.apps, figures::SEED);
        println!(
            "{}: {} files, {} resources, {:.1} MiB of YAML",
            dir.display(),
            tree.len(),
            generate::count_documents(&tree),
            tree.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / (1024.0 * 1024.0)
        );
        return;
    }
    if !options.bench {
        println!("peers: nothing measured without --bench (run `scripts/bench`)");
        return;
    }
    let load_at_start = table::load_average();
    let rows = figures::run_all(&options);
    let text = table::render(&rows, &load_at_start);
    println!("\n{text}");
    if options.update_readme {
        table::update_readme(&text);
        println!("README.md updated");
    }
}
