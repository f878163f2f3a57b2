//! The `values.yaml` of a chart archive: a gzip'd tar whose top directory is
//! the chart (`podinfo/values.yaml`). Read as a stream with bounds, never
//! unpacked: ustar names with their prefix, PAX `path` records and GNU long
//! names are honoured; anything else is skipped.

use flate2::read::MultiGzDecoder;
use std::io::Read;

/// Unpacked bytes read at most: a chart's files are small; a larger stream
/// is a hostile or broken archive.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
const BLOCK: usize = 512;

/// The chart's own `values.yaml` (not a subchart's), or why there is none.
pub fn values_yaml(archive: &[u8], max_file: usize) -> Result<Vec<u8>, String> {
    let mut stream = MultiGzDecoder::new(archive).take(MAX_UNPACKED_BYTES);
    let mut long_name: Option<String> = None;
    let mut header = [0u8; BLOCK];
    loop {
        if !read_block(&mut stream, &mut header)? {
            return Err("the archive ends without a values.yaml".into());
        }
        if header.iter().all(|&b| b == 0) {
            return Err("the archive has no values.yaml".into());
        }
        if !checksum_ok(&header) {
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
                if is_top_values(&name) {
                    if size > max_file as u64 {
                        return Err(format!(
                            "its values.yaml is larger than {} MiB",
                            max_file / (1024 * 1024)
                        ));
                    }
                    return read_data(&mut stream, size, max_file);
                }
                skip_data(&mut stream, size)?;
            }
            _ => {
                long_name = None;
                skip_data(&mut stream, size)?;
            }
        }
    }
}

/// `<chart>/values.yaml`: exactly one directory above it.
fn is_top_values(name: &str) -> bool {
    let name = name.trim_start_matches("./");
    name.split_once('/')
        .is_some_and(|(top, rest)| !top.is_empty() && rest == "values.yaml")
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
    fn bad_archives_are_errors_not_panics() {
        let good = tgz(&[("c/values.yaml", b"a: 1\n", b'0')]);
        assert!(values_yaml(&tgz(&[("c/Chart.yaml", b"x", b'0')]), 1024).is_err());
        assert!(values_yaml(b"not gzip", 1024).is_err());
        assert!(values_yaml(&good, 2).unwrap_err().contains("larger"));
        for cut in 0..good.len() {
            let _ = values_yaml(&good[..cut], 1024);
        }
        let mut flipped = good.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0x40;
            let _ = values_yaml(&flipped, 1024);
            flipped[i] ^= 0x40;
        }
    }
}
