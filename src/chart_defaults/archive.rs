//! The `values.yaml` of a chart archive: a gzip'd tar whose top directory is
//! the chart (`podinfo/values.yaml`). Read as a stream with bounds, never
//! unpacked: ustar names with their prefix, PAX `path` records and GNU long
//! names are honoured; anything else is skipped.

use super::global_reads::{is_template, GlobalReads};
use flate2::read::MultiGzDecoder;
use std::io::Read;

/// Unpacked bytes read at most: a chart's files are small; a larger stream
/// is a hostile or broken archive.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
const BLOCK: usize = 512;

/// What fluxgate reads of a chart for its default values.
#[derive(Debug, Default, PartialEq)]
pub struct ChartFiles {
    /// The chart's own `values.yaml`.
    pub values: Vec<u8>,
    /// Its `Chart.yaml` (the aliases of its dependencies), if readable.
    pub chart_yaml: Option<Vec<u8>>,
    /// Each subchart's own `values.yaml`, by the subchart's name: from
    /// `charts/<name>/values.yaml`, or from the archive
    /// `charts/<name>-<version>.tgz` that `helm dependency update` leaves.
    pub subcharts: Vec<(String, Vec<u8>)>,
    /// What the templates of the chart and its subcharts read under
    /// `global`.
    pub global_reads: GlobalReads,
}

/// Subchart archives read at most, and their size: a chart has a few.
const MAX_SUBCHART_ARCHIVES: usize = 32;
pub const MAX_SUBCHART_ARCHIVE_BYTES: u64 = 16 * 1024 * 1024;

/// The chart's own `values.yaml` (not a subchart's), or why there is none.
pub fn values_yaml(archive: &[u8], max_file: usize) -> Result<Vec<u8>, String> {
    read_chart(archive, max_file, MAX_UNPACKED_BYTES, Depth::ValuesOnly)
        .map(|(_, files, _)| files.values)
}

/// A subchart's archive (in its parent's `charts/`): its name (the top
/// directory), its own `values.yaml` and what its templates read.
pub fn subchart(archive: &[u8], max_file: usize) -> Result<(String, ChartFiles), String> {
    read_chart(archive, max_file, MAX_UNPACKED_BYTES, Depth::Nested)
        .map(|(top, files, _)| (top, files))
}

/// The chart's own `values.yaml`, its `Chart.yaml` and its subcharts'
/// `values.yaml` files (one level down). Subchart archives share the
/// unpacked-bytes bound of the chart's.
pub fn chart_files(archive: &[u8], max_file: usize) -> Result<ChartFiles, String> {
    read_chart(archive, max_file, MAX_UNPACKED_BYTES, Depth::Whole).map(|(_, files, _)| files)
}

/// How much of a chart archive is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Its own `values.yaml`, and nothing after it.
    ValuesOnly,
    /// Its values and templates (a subchart's archive).
    Nested,
    /// Also `Chart.yaml` and its subcharts' values, directories or archives.
    Whole,
}

/// Reads `archive` up to `limit` unpacked bytes (read whole, its
/// subcharts' archives too, from what is left): its top directory, its
/// files and the unpacked bytes used.
fn read_chart(
    archive: &[u8],
    max_file: usize,
    limit: u64,
    depth: Depth,
) -> Result<(String, ChartFiles, u64), String> {
    let mut stream = MultiGzDecoder::new(archive).take(limit);
    let mut long_name: Option<String> = None;
    let mut header = [0u8; BLOCK];
    let mut files = ChartFiles::default();
    let mut found_values = false;
    let mut top = String::new();
    let mut nested_left = limit;
    let mut nested_read = 0;
    loop {
        // Once the chart's own values are found, a broken rest costs only
        // the subcharts after it.
        let more = match read_block(&mut stream, &mut header) {
            Ok(more) => more,
            Err(_) if found_values => {
                files.global_reads.mark_partial();
                false
            }
            Err(e) => return Err(e),
        };
        if !more || header.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(&header) {
            if found_values {
                files.global_reads.mark_partial();
                break;
            }
            return Err("the archive is not a tar file (bad header checksum)".into());
        }
        let size = size_of(&header)?;
        let kind = header[156];
        match kind {
            // PAX extended header / GNU long name: they name the next entry.
            b'x' | b'L' => {
                let data = read_data(&mut stream, size, 1024 * 1024)?;
                long_name = if kind == b'L' {
                    Some(
                        String::from_utf8_lossy(&data)
                            .trim_end_matches('\0')
                            .to_string(),
                    )
                } else {
                    pax_path(&data).or(long_name)
                };
            }
            b'0' | 0 => {
                let name = long_name.take().unwrap_or_else(|| ustar_name(&header));
                let Some((dir, rest)) = split_top(&name) else {
                    skip_data(&mut stream, size)?;
                    continue;
                };
                if top.is_empty() {
                    top = dir.to_string();
                }
                match wanted(rest, depth) {
                    // The first one counts, as for a chart read alone.
                    Some(Wanted::Values) if !found_values => {
                        if size > max_file as u64 {
                            return Err(format!(
                                "its values.yaml is larger than {} MiB",
                                max_file / (1024 * 1024)
                            ));
                        }
                        files.values = read_data(&mut stream, size, max_file)?;
                        found_values = true;
                        if depth == Depth::ValuesOnly {
                            break;
                        }
                    }
                    Some(Wanted::Template) if size <= max_file as u64 => {
                        let data = read_data(&mut stream, size, max_file)?;
                        files.global_reads.scan(&String::from_utf8_lossy(&data));
                    }
                    Some(Wanted::ChartYaml) if size <= max_file as u64 => {
                        files.chart_yaml = Some(read_data(&mut stream, size, max_file)?);
                    }
                    Some(Wanted::SubchartValues(name)) if size <= max_file as u64 => {
                        let name = name.to_string();
                        let data = read_data(&mut stream, size, max_file)?;
                        files.subcharts.push((name, data));
                    }
                    Some(Wanted::SubchartArchive)
                        if size <= MAX_SUBCHART_ARCHIVE_BYTES
                            && nested_read < MAX_SUBCHART_ARCHIVES =>
                    {
                        let limit = MAX_SUBCHART_ARCHIVE_BYTES as usize;
                        let data = read_data(&mut stream, size, limit)?;
                        nested_read += 1;
                        // A broken subchart archive costs only its values.
                        match read_chart(&data, max_file, nested_left, Depth::Nested) {
                            Ok((name, sub, used)) => {
                                nested_left = nested_left.saturating_sub(used);
                                files.subcharts.push((name, sub.values));
                                files.global_reads.merge(sub.global_reads);
                            }
                            Err(_) => files.global_reads.mark_partial(),
                        }
                    }
                    Some(Wanted::Template | Wanted::SubchartArchive) => {
                        files.global_reads.mark_partial();
                        skip_data(&mut stream, size)?;
                    }
                    _ => skip_data(&mut stream, size)?,
                }
            }
            _ => {
                long_name = None;
                skip_data(&mut stream, size)?;
            }
        }
    }
    if !found_values {
        return Err("the archive has no values.yaml".into());
    }
    let used = limit - stream.limit();
    Ok((top, files, used))
}

/// `<chart>/<rest>`: the top directory and the rest, both non-empty.
fn split_top(name: &str) -> Option<(&str, &str)> {
    let name = name.trim_start_matches("./");
    name.split_once('/')
        .filter(|(top, rest)| !top.is_empty() && !rest.is_empty())
}

/// The entries of a chart read for its defaults.
enum Wanted<'a> {
    Values,
    ChartYaml,
    SubchartValues(&'a str),
    SubchartArchive,
    Template,
}

fn wanted(rest: &str, depth: Depth) -> Option<Wanted<'_>> {
    match rest {
        "values.yaml" => return Some(Wanted::Values),
        "Chart.yaml" if depth == Depth::Whole => return Some(Wanted::ChartYaml),
        _ => {}
    }
    if depth != Depth::ValuesOnly && is_template(rest) {
        return Some(Wanted::Template);
    }
    let inside = rest
        .strip_prefix("charts/")
        .filter(|_| depth == Depth::Whole)?;
    match inside.split_once('/') {
        Some((name, "values.yaml")) if !name.is_empty() => Some(Wanted::SubchartValues(name)),
        None if inside.ends_with(".tgz") => Some(Wanted::SubchartArchive),
        _ => None,
    }
}

fn read_block(stream: &mut impl Read, block: &mut [u8; BLOCK]) -> Result<bool, String> {
    let mut filled = 0;
    while filled < BLOCK {
        match stream.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err("the archive is cut short".into()),
            Ok(n) => filled += n,
            Err(e) => return Err(format!("the archive is not valid gzip: {e}")),
        }
    }
    Ok(true)
}

/// An entry's data, padded to whole blocks in the stream.
fn read_data(stream: &mut impl Read, size: u64, limit: usize) -> Result<Vec<u8>, String> {
    if size > limit as u64 {
        return Err(format!("an archive entry is larger than {limit} bytes"));
    }
    let padded = size.next_multiple_of(BLOCK as u64);
    let mut data = Vec::new();
    stream
        .take(padded)
        .read_to_end(&mut data)
        .map_err(|e| format!("the archive is not valid gzip: {e}"))?;
    if (data.len() as u64) < padded {
        return Err("the archive is cut short".into());
    }
    data.truncate(size as usize);
    Ok(data)
}

fn skip_data(stream: &mut impl Read, size: u64) -> Result<(), String> {
    let padded = size.next_multiple_of(BLOCK as u64);
    let copied = std::io::copy(&mut stream.take(padded), &mut std::io::sink())
        .map_err(|e| format!("the archive is not valid gzip: {e}"))?;
    if copied < padded {
        return Err("the archive is cut short".into());
    }
    Ok(())
}

fn checksum_ok(header: &[u8; BLOCK]) -> bool {
    let written = octal(&header[148..156]);
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    written == Some(sum)
}

fn size_of(header: &[u8; BLOCK]) -> Result<u64, String> {
    let field = &header[124..136];
    // GNU base-256 for sizes past 8 GiB: never a chart's.
    if field[0] & 0x80 != 0 {
        return Err("an archive entry is too large".into());
    }
    octal(field).ok_or_else(|| "the archive has an unreadable entry size".to_string())
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn cstr(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn ustar_name(header: &[u8; BLOCK]) -> String {
    let name = cstr(&header[..100]);
    let prefix = if &header[257..262] == b"ustar" {
        cstr(&header[345..500])
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// The `path` record of a PAX header (`<len> path=<value>\n` records).
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| {
        let (_, pair) = record.split_once(' ')?;
        pair.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn header(name: &str, size: usize, kind: u8) -> [u8; BLOCK] {
        let mut header = [0u8; BLOCK];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        header[156] = kind;
        header[257..263].copy_from_slice(b"ustar\0");
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        header
    }

    fn tgz(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut tar = Vec::new();
        for (name, data, kind) in entries {
            tar.extend_from_slice(&header(name, data.len(), *kind));
            tar.extend_from_slice(data);
            tar.resize(tar.len().next_multiple_of(BLOCK), 0);
        }
        tar.resize(tar.len() + 2 * BLOCK, 0);
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn finds_the_charts_own_values_not_a_subcharts() {
        let archive = tgz(&[
            ("podinfo/Chart.yaml", b"name: podinfo\n", b'0'),
            ("podinfo/charts/redis/values.yaml", b"image: sub\n", b'0'),
            ("podinfo/values.yaml", b"image:\n  repository: r\n", b'0'),
        ]);
        assert_eq!(
            values_yaml(&archive, 1024).unwrap(),
            b"image:\n  repository: r\n"
        );
    }

    #[test]
    fn long_names_name_the_next_entry() {
        let pax = b"30 path=podinfo/values.yaml\n";
        let archive = tgz(&[
            ("PaxHeader", pax, b'x'),
            ("podinfo/truncated-nam", b"a: 1\n", b'0'),
        ]);
        assert_eq!(values_yaml(&archive, 1024).unwrap(), b"a: 1\n");
        let archive = tgz(&[
            ("././@LongLink", b"chart/values.yaml\0", b'L'),
            ("chart/x", b"b: 2\n", b'0'),
        ]);
        assert_eq!(values_yaml(&archive, 1024).unwrap(), b"b: 2\n");
    }

    #[test]
    fn subcharts_are_read_from_directories_and_archives() {
        let nested = tgz(&[
            ("grafana/Chart.yaml", b"name: grafana\n", b'0'),
            ("grafana/values.yaml", b"image: {repository: g}\n", b'0'),
        ]);
        let archive = tgz(&[
            ("stack/Chart.yaml", b"name: stack\n", b'0'),
            ("stack/values.yaml", b"grafana: {}\n", b'0'),
            ("stack/charts/redis/values.yaml", b"image: sub\n", b'0'),
            ("stack/charts/redis/templates/x.yaml", b"x\n", b'0'),
            ("stack/charts/grafana-7.0.0.tgz", &nested, b'0'),
            ("stack/charts/broken-1.0.0.tgz", b"not gzip", b'0'),
        ]);
        let files = chart_files(&archive, 1024).unwrap();
        assert_eq!(files.values, b"grafana: {}\n");
        assert_eq!(files.chart_yaml.as_deref(), Some(&b"name: stack\n"[..]));
        assert_eq!(
            files.subcharts,
            [
                ("redis".to_string(), b"image: sub\n".to_vec()),
                ("grafana".to_string(), b"image: {repository: g}\n".to_vec()),
            ]
        );
        // A subchart's archive nested in it is not read as the chart's own.
        assert_eq!(values_yaml(&archive, 1024).unwrap(), b"grafana: {}\n");
    }

    #[test]
    fn bad_archives_are_errors_not_panics() {
        let good = tgz(&[("c/values.yaml", b"a: 1\n", b'0')]);
        assert!(values_yaml(&tgz(&[("c/Chart.yaml", b"x", b'0')]), 1024).is_err());
        assert!(values_yaml(b"not gzip", 1024).is_err());
        assert!(values_yaml(&good, 2).unwrap_err().contains("larger"));
        for cut in 0..good.len() {
            let _ = values_yaml(&good[..cut], 1024);
            let _ = chart_files(&good[..cut], 1024);
        }
        let mut flipped = good.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0x40;
            let _ = values_yaml(&flipped, 1024);
            let _ = chart_files(&flipped, 1024);
            flipped[i] ^= 0x40;
        }
    }
}
