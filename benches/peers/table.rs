//! The results as a Markdown table with its date, machine and load, and
//! writing it between the README's `bench` markers.

use std::path::Path;
use std::process::Command;

use crate::figures::Row;
use crate::measure::show;

const BEGIN: &str = "<!-- bench:begin (scripts/bench --update-readme writes this) -->";
const END: &str = "<!-- bench:end -->";

/// The table and the lines that say where and when it was measured.
pub fn render(rows: &[Row], load_at_start: &str) -> String {
    let mut out = format!(
        "Measured {} on {} (`{}`); load average {load_at_start} at the start, {} at the end \
         (other work shares the machine). Medians of alternating runs; regenerate with \
         `scripts/bench --update-readme`.\n\n",
        today(),
        machine(),
        cpu_model(),
        load_average()
    );
    out.push_str("| # | measurement | fluxgate | peer | peer time | ratio | target | result | requests at the registry | peak RSS, CPU time (one run) |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        let (peer, peer_time) = match &row.peer {
            Some((name, time)) => (name.clone(), show(*time)),
            None => ("-".into(), "-".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.figure,
            row.what,
            show(row.fluxgate),
            peer,
            peer_time,
            row.ratio,
            row.target,
            if row.pass { "**met**" } else { "**missed**" },
            row.requests,
            row.rss
        ));
    }
    out
}

/// Replaces the text between the README's markers with `table`.
pub fn update_readme(table: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).expect("read README.md");
    let start = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("README.md lacks the line {BEGIN}"));
    let end = text[start..]
        .find(END)
        .map(|i| start + i)
        .unwrap_or_else(|| panic!("README.md lacks the line {END}"));
    let updated = format!("{}{BEGIN}\n{table}{}", &text[..start], &text[end..]);
    std::fs::write(&path, updated).expect("write README.md");
}

fn shell(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn today() -> String {
    shell("date", &["-u", "+%Y-%m-%d"])
}

/// `2-core VM, 24 GiB` style: cores, memory, and whether it is virtual.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let gib = (kib as f64 / (1024.0 * 1024.0)).round();
    let virt = shell("systemd-detect-virt", &[]);
    let kind = if virt.is_empty() || virt == "none" {
        "machine"
    } else {
        "VM"
    };
    format!("{cores}-core {kind}, {gib:.0} GiB")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
