//! The overlay index on disk: one file of tree id -> summary records,
//! closed by a SHA-256 of everything before it. Anything unexpected (another
//! version, a torn or edited file) makes the whole file unknown, and the
//! run reads the trees again; it is written to a temporary name and renamed,
//! so concurrent runs each leave a whole file. The file is an optimisation
//! only: failing to read or write it never changes a result.

use super::{FluxAt, Summary};
use git2::Oid;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

const MAGIC: &[u8] = b"fluxgate overlay index 3\n";
const FILE_NAME: &str = "overlay-index";
/// Past this, the file starts over with this run's entries.
const MAX_ENTRIES: usize = 1_000_000;
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

pub struct Store {
    dir: PathBuf,
    known: HashMap<Oid, Rc<Summary>>,
    added: Vec<Oid>,
    /// Why the file could not be written, if it could not.
    pub save_error: Option<String>,
}

impl Store {
    pub fn open(dir: PathBuf) -> Store {
        let known = read_file(&dir.join(FILE_NAME)).unwrap_or_default();
        Store {
            dir,
            known,
            added: Vec::new(),
            save_error: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    pub fn get(&self, tree: Oid) -> Option<Rc<Summary>> {
        self.known.get(&tree).cloned()
    }

    pub fn insert(&mut self, tree: Oid, summary: Summary) -> Rc<Summary> {
        let summary = Rc::new(summary);
        if self.known.insert(tree, summary.clone()).is_none() {
            self.added.push(tree);
        }
        summary
    }

    /// Writes the file if this run learnt anything.
    pub fn save(&mut self) {
        if self.added.is_empty() {
            return;
        }
        let entries: Vec<(&Oid, &Rc<Summary>)> = if self.known.len() > MAX_ENTRIES {
            self.added
                .iter()
                .filter_map(|id| self.known.get_key_value(id))
                .collect()
        } else {
            self.known.iter().collect()
        };
        if let Err(e) = self.write(&entries) {
            self.save_error = Some(format!(
                "could not keep the overlay index in {}: {e}",
                self.dir.display()
            ));
        }
    }

    fn write(&self, entries: &[(&Oid, &Rc<Summary>)]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = encode(entries);
        let temp = self
            .dir
            .join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, self.dir.join(FILE_NAME)).inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
    }
}

fn encode(entries: &[(&Oid, &Rc<Summary>)]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    for (id, summary) in entries {
        out.extend_from_slice(id.as_bytes());
        out.push(u8::from(summary.rewrites) | (u8::from(summary.own_rewrites) << 1));
        put_u32(&mut out, summary.reaching_out.len());
        for dir in &summary.reaching_out {
            put_str(&mut out, dir);
        }
        put_u32(&mut out, summary.flux.len());
        for at in &summary.flux {
            put_str(&mut out, &at.builds);
            put_str(&mut out, &at.file);
        }
        put_u32(&mut out, summary.flux_below.len());
        for (name, tree) in &summary.flux_below {
            put_str(&mut out, name);
            out.extend_from_slice(tree.as_bytes());
        }
    }
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u32(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn read_file(path: &std::path::Path) -> Option<HashMap<Oid, Rc<Summary>>> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_FILE_BYTES {
        return None;
    }
    decode(&std::fs::read(path).ok()?)
}

pub(super) fn decode(bytes: &[u8]) -> Option<HashMap<Oid, Rc<Summary>>> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, digest) = bytes.split_at(body_len);
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    let mut rest = body.strip_prefix(MAGIC)?;
    let mut known = HashMap::new();
    while !rest.is_empty() {
        let id = Oid::from_bytes(take(&mut rest, 20)?).ok()?;
        let (rewrites, own_rewrites) = match take(&mut rest, 1)? {
            [flags @ 0..=3] => (flags & 1 != 0, flags & 2 != 0),
            _ => return None,
        };
        let mut reaching_out = Vec::new();
        for _ in 0..take_u32(&mut rest)? {
            reaching_out.push(take_str(&mut rest)?);
        }
        let mut flux = Vec::new();
        for _ in 0..take_u32(&mut rest)? {
            flux.push(FluxAt {
                builds: take_str(&mut rest)?,
                file: take_str(&mut rest)?,
            });
        }
        let mut flux_below = Vec::new();
        for _ in 0..take_u32(&mut rest)? {
            let name = take_str(&mut rest)?;
            flux_below.push((name, Oid::from_bytes(take(&mut rest, 20)?).ok()?));
        }
        let summary = Summary {
            rewrites,
            own_rewrites,
            reaching_out,
            flux,
            flux_below,
        };
        known.insert(id, Rc::new(summary));
    }
    Some(known)
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_str(rest: &mut &[u8]) -> Option<String> {
    let len = take_u32(rest)?;
    Some(std::str::from_utf8(take(rest, len)?).ok()?.to_string())
}

fn take_u32(rest: &mut &[u8]) -> Option<usize> {
    let bytes: [u8; 4] = take(rest, 4)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(bytes)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(Oid, Rc<Summary>)> {
        vec![
            (
                Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap(),
                Rc::new(Summary {
                    rewrites: true,
                    own_rewrites: true,
                    reaching_out: vec![String::new(), "overlays/prod".into()],
                    flux: vec![FluxAt {
                        builds: "apps/prod".into(),
                        file: "apps.yaml".into(),
                    }],
                    flux_below: vec![(
                        "clusters".into(),
                        Oid::from_str("456789abcdef0123456789abcdef0123456789ab").unwrap(),
                    )],
                }),
            ),
            (
                Oid::from_str("89abcdef0123456789abcdef0123456789abcdef").unwrap(),
                Rc::new(Summary::default()),
            ),
        ]
    }

    #[test]
    fn entries_survive_a_round_trip() {
        let entries = sample();
        let refs: Vec<(&Oid, &Rc<Summary>)> = entries.iter().map(|(a, b)| (a, b)).collect();
        let decoded = decode(&encode(&refs)).unwrap();
        assert_eq!(decoded.len(), 2);
        for (id, summary) in &entries {
            assert_eq!(&decoded[id], summary);
        }
    }

    #[test]
    fn any_damage_makes_the_whole_file_unknown() {
        let entries = sample();
        let refs: Vec<(&Oid, &Rc<Summary>)> = entries.iter().map(|(a, b)| (a, b)).collect();
        let good = encode(&refs);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_none(), "truncated at {cut}");
        }
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            assert!(decode(&bad).is_none(), "bit flipped at {at}");
        }
        assert!(decode(b"").is_none());
    }
}
