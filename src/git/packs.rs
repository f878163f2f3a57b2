//! Objects read straight from git's pack files, for the read pattern
//! libgit2 makes slow: every tree and every YAML file of a fresh clone,
//! once each (the overlay index's first build). libgit2 reads under a
//! process-wide lock (so threads wait on each other), sets up a new zlib
//! stream and fills its object cache for every object; here each thread
//! has its own reader over the shared, memory-mapped packs, the inflater is
//! reused, and only delta bases are kept.
//!
//! Every object is checked against its id (SHA-1 of git's object header
//! and content) before it is returned. What this reader cannot produce (a
//! loose object, one in an alternate object store, an index version it does
//! not know, a check that fails) is `None`, and the caller asks libgit2: a
//! mistake here costs time, never a wrong object.

use flate2::{Decompress, FlushDecompress, Status};
use git2::{ObjectType, Oid};
use memmap2::Mmap;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

const ID_LEN: usize = 20;
const INDEX_MAGIC: [u8; 4] = [0xff, b't', b'O', b'c'];
/// Larger objects (and delta chains longer than git ever writes) are left
/// to libgit2.
const MAX_OBJECT_BYTES: usize = 512 << 20;
const MAX_CHAIN: usize = 10_000;
/// Delta bases kept in memory; past it the cache starts over.
const BASE_CACHE_BYTES: usize = 8 << 20;

/// An object as built from a pack: its type and bytes.
type Built = (ObjectType, Arc<Vec<u8>>);

/// An object read from a pack.
#[derive(Debug, PartialEq, Eq)]
pub enum Packed {
    Object(ObjectType, Arc<Vec<u8>>),
    /// Larger than the caller's limit: its size, from the pack's headers
    /// (the object is not built).
    TooLarge(usize),
}

/// The packs of one object directory, and what one thread needs to read
/// them ([`Packs::fork`] gives another thread its own).
pub struct Packs {
    packs: Arc<[Pack]>,
    inflater: Decompress,
    /// By pack and offset.
    bases: HashMap<(usize, usize), Built>,
    base_bytes: usize,
}

struct Pack {
    index: Mmap,
    data: Mmap,
    count: usize,
}

/// One entry's header in a pack.
struct Entry {
    kind: u8,
    size: usize,
    /// Where the compressed bytes start.
    body: usize,
    base: Option<Base>,
}

#[derive(Clone, Copy)]
enum Base {
    At(usize),
    Named(Oid),
}

impl Packs {
    /// The packs under `objects/pack` (none is fine: every read is `None`).
    pub fn open(objects: &Path) -> Packs {
        let mut packs = Vec::new();
        if let Ok(dir) = std::fs::read_dir(objects.join("pack")) {
            let mut indexes: Vec<_> = dir
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
                .collect();
            indexes.sort();
            packs.extend(indexes.iter().filter_map(|idx| Pack::open(idx)));
        }
        Packs::reading(packs.into())
    }

    fn reading(packs: Arc<[Pack]>) -> Packs {
        Packs {
            packs,
            inflater: Decompress::new(true),
            bases: HashMap::new(),
            base_bytes: 0,
        }
    }

    /// The same packs, for another thread (the files are shared, not the
    /// inflater and cache).
    pub fn fork(&self) -> Packs {
        Packs::reading(self.packs.clone())
    }

    /// [`Packs::locate`] then [`Packs::read_at`] (the batch reader
    /// locates every object first, to read them in pack order).
    #[cfg(test)]
    pub fn read(&mut self, id: Oid, limit: usize) -> Option<Packed> {
        let at = self.locate(id)?;
        self.read_at(id, at, limit)
    }

    /// The object `id` at `at` (from [`Packs::locate`]), unless it is
    /// larger than `limit` bytes; `None` when this reader cannot produce it
    /// (the caller asks libgit2).
    pub fn read_at(&mut self, id: Oid, at: (usize, usize), limit: usize) -> Option<Packed> {
        let (pack, offset) = at;
        if let Some((kind, bytes)) = self.bases.get(&(pack, offset)) {
            if bytes.len() > limit {
                return Some(Packed::TooLarge(bytes.len()));
            }
            return names(id, *kind, bytes).then(|| Packed::Object(*kind, bytes.clone()));
        }
        let entry = self.packs[pack].entry(offset)?;
        let (kind, bytes) = match entry.base {
            None => {
                if entry.size > limit {
                    return Some(Packed::TooLarge(entry.size));
                }
                let bytes = Arc::new(self.inflate(pack, &entry)?);
                (object_type(entry.kind)?, bytes)
            }
            Some(base) => {
                // The delta names the result's size: an oversized object
                // is told before its base is built.
                let delta = self.inflate(pack, &entry)?;
                let size = target_size(&delta)?;
                if size > limit {
                    return Some(Packed::TooLarge(size));
                }
                let (kind, base) = self.build(pack, self.base_offset(pack, base)?)?;
                let bytes = Arc::new(apply_delta(&base, &delta)?);
                self.keep(pack, offset, kind, &bytes);
                (kind, bytes)
            }
        };
        names(id, kind, &bytes).then_some(Packed::Object(kind, bytes))
    }

    /// Every id the packs' indexes list (for the fuzz target, which reads
    /// them all).
    pub fn ids(&self) -> Vec<Oid> {
        let mut ids = Vec::new();
        for pack in self.packs.iter() {
            let names = 8 + 1024;
            for at in 0..pack.count {
                let Some(name) = pack
                    .index
                    .get(names + at * ID_LEN..names + (at + 1) * ID_LEN)
                else {
                    break;
                };
                ids.extend(Oid::from_bytes(name).ok());
            }
        }
        ids
    }

    /// Which pack holds `id`, and where (also to read many objects in the
    /// order they are stored).
    pub fn locate(&self, id: Oid) -> Option<(usize, usize)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(at, pack)| Some((at, pack.offset_of(id)?)))
    }

    fn base_offset(&self, pack: usize, base: Base) -> Option<usize> {
        match base {
            Base::At(offset) => Some(offset),
            // Packs on disk hold their own bases; a thin pack is not one.
            Base::Named(id) => self.packs[pack].offset_of(id),
        }
    }

    /// The object at `offset`: its chain walked down to a whole object (or
    /// a base already built), then the deltas applied on the way back up.
    fn build(&mut self, pack: usize, offset: usize) -> Option<Built> {
        let mut deltas = Vec::new();
        let mut at = offset;
        let (kind, mut bytes) = loop {
            if let Some(known) = self.bases.get(&(pack, at)) {
                break known.clone();
            }
            if deltas.len() > MAX_CHAIN {
                return None;
            }
            let entry = self.packs[pack].entry(at)?;
            match &entry.base {
                None => {
                    let kind = object_type(entry.kind)?;
                    let bytes = Arc::new(self.inflate(pack, &entry)?);
                    self.keep(pack, at, kind, &bytes);
                    break (kind, bytes);
                }
                Some(base) => {
                    let next = self.base_offset(pack, *base)?;
                    deltas.push((at, entry));
                    at = next;
                }
            }
        };
        for (at, entry) in deltas.into_iter().rev() {
            let delta = self.inflate(pack, &entry)?;
            bytes = Arc::new(apply_delta(&bytes, &delta)?);
            self.keep(pack, at, kind, &bytes);
        }
        Some((kind, bytes))
    }

    fn keep(&mut self, pack: usize, offset: usize, kind: ObjectType, bytes: &Arc<Vec<u8>>) {
        if self.base_bytes + bytes.len() > BASE_CACHE_BYTES {
            self.bases.clear();
            self.base_bytes = 0;
        }
        self.base_bytes += bytes.len();
        self.bases.insert((pack, offset), (kind, bytes.clone()));
    }

    fn inflate(&mut self, pack: usize, entry: &Entry) -> Option<Vec<u8>> {
        if entry.size > MAX_OBJECT_BYTES {
            return None;
        }
        let data = &self.packs[pack].data;
        let input = data.get(entry.body..data.len().checked_sub(ID_LEN)?)?;
        // zlib expands at most about 1032 to 1: a damaged header claiming
        // more than the rest of the pack can give is refused before its
        // room is reserved.
        if entry.size > input.len().saturating_mul(1032).saturating_add(64) {
            return None;
        }
        // Room for the size the header gives: a longer stream stops short
        // of its end (no `StreamEnd`) and is refused.
        let mut out = Vec::with_capacity(entry.size);
        self.inflater.reset(true);
        let status = self
            .inflater
            .decompress_vec(input, &mut out, FlushDecompress::Finish)
            .ok()?;
        (status == Status::StreamEnd && out.len() == entry.size).then_some(out)
    }
}

impl Pack {
    fn open(idx: &Path) -> Option<Pack> {
        let index = map(idx)?;
        let data = map(&idx.with_extension("pack"))?;
        if index.get(..8)? != [INDEX_MAGIC, [0, 0, 0, 2]].concat() {
            return None;
        }
        let count = be32(&index, 8 + 255 * 4)? as usize;
        // Fan-out, names, CRCs, offsets, then the two checksums.
        if index.len() < 8 + 1024 + count * (ID_LEN + 8) + 2 * ID_LEN
            || data.get(..4)? != b"PACK"
            || be32(&data, 8)? as usize != count
        {
            return None;
        }
        Some(Pack { index, data, count })
    }

    fn offset_of(&self, id: Oid) -> Option<usize> {
        let id = id.as_bytes();
        let first = usize::from(id[0]);
        let low = match first {
            0 => 0,
            _ => be32(&self.index, 8 + (first - 1) * 4)? as usize,
        };
        let high = be32(&self.index, 8 + first * 4)? as usize;
        let names = 8 + 1024;
        let name = |at: usize| {
            self.index
                .get(names + at * ID_LEN..names + (at + 1) * ID_LEN)
        };
        let (mut low, mut high) = (low, high.min(self.count));
        while low < high {
            let middle = (low + high) / 2;
            match name(middle)?.cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return self.offset_at(middle),
            }
        }
        None
    }

    fn offset_at(&self, at: usize) -> Option<usize> {
        let offsets = 8 + 1024 + self.count * (ID_LEN + 4);
        let small = be32(&self.index, offsets + at * 4)?;
        if small & 0x8000_0000 == 0 {
            return Some(small as usize);
        }
        let large = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        let bytes = self.index.get(large..large + 8)?;
        usize::try_from(u64::from_be_bytes(bytes.try_into().ok()?)).ok()
    }

    fn entry(&self, offset: usize) -> Option<Entry> {
        let end = self.data.len().checked_sub(ID_LEN)?;
        let mut at = self.data.get(offset..end)?;
        let mut byte = *at.first()?;
        at = &at[1..];
        let kind = (byte >> 4) & 7;
        let mut size = usize::from(byte & 15);
        let mut shift = 4;
        while byte & 0x80 != 0 {
            byte = *at.first()?;
            at = &at[1..];
            size |= usize::from(byte & 0x7f).checked_shl(shift)?;
            shift += 7;
            if shift > 56 {
                return None;
            }
        }
        let base = match kind {
            6 => {
                byte = *at.first()?;
                at = &at[1..];
                let mut back = usize::from(byte & 0x7f);
                while byte & 0x80 != 0 {
                    byte = *at.first()?;
                    at = &at[1..];
                    back = back.checked_add(1)?.checked_mul(128)? | usize::from(byte & 0x7f);
                }
                // A base comes before its delta.
                Some(Base::At(offset.checked_sub(back).filter(|_| back > 0)?))
            }
            7 => {
                let id = Oid::from_bytes(at.get(..ID_LEN)?).ok()?;
                at = &at[ID_LEN..];
                Some(Base::Named(id))
            }
            _ => None,
        };
        Some(Entry {
            kind,
            size,
            body: end - at.len(),
            base,
        })
    }
}

#[allow(unsafe_code)]
fn map(path: &Path) -> Option<Mmap> {
    let file = File::open(path).ok()?;
    // SAFETY: git writes a pack and its index under temporary names and
    // renames them into place; it never changes one in place (libgit2 maps
    // the same files). Every read below is bounds-checked, and every object
    // is checked against its id.
    unsafe { Mmap::map(&file) }.ok()
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn object_type(kind: u8) -> Option<ObjectType> {
    match kind {
        1 => Some(ObjectType::Commit),
        2 => Some(ObjectType::Tree),
        3 => Some(ObjectType::Blob),
        4 => Some(ObjectType::Tag),
        _ => None,
    }
}

/// Whether `bytes` are the object git names `id`.
fn names(id: Oid, kind: ObjectType, bytes: &[u8]) -> bool {
    let mut header = Vec::with_capacity(32);
    let _ = write!(header, "{} {}\0", kind.str(), bytes.len());
    let mut hash = Sha1::new();
    hash.update(&header);
    hash.update(bytes);
    hash.finalize().as_slice() == id.as_bytes()
}

/// The size of the object a delta makes.
fn target_size(delta: &[u8]) -> Option<usize> {
    let mut at = delta;
    varint(&mut at)?;
    varint(&mut at)
}

/// A delta's little-endian base-128 size.
fn varint(at: &mut &[u8]) -> Option<usize> {
    let mut value = 0usize;
    let mut shift = 0u32;
    loop {
        let byte = *at.first()?;
        *at = &at[1..];
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
        if shift > 56 {
            return None;
        }
    }
}

/// Git's delta format: the base's size, the result's size, then copies
/// from the base and inserted bytes.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut at = delta;
    if varint(&mut at)? != base.len() {
        return None;
    }
    let size = varint(&mut at)?;
    if size > MAX_OBJECT_BYTES {
        return None;
    }
    // Grown as the copies and inserts come: a damaged delta may claim any
    // size up to the limit.
    let mut out = Vec::with_capacity(size.min(1 << 20));
    while let Some((&op, rest)) = at.split_first() {
        at = rest;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: u32| -> Option<usize> {
                let mut value = 0usize;
                for bit in 0..bits {
                    if op & (1 << (shift + u32::from(bit))) != 0 {
                        let (&byte, rest) = at.split_first()?;
                        at = rest;
                        value |= usize::from(byte) << (8 * u32::from(bit));
                    }
                }
                Some(value)
            };
            let start = field(4, 0)?;
            let length = match field(3, 4)? {
                0 => 0x10000,
                length => length,
            };
            out.extend_from_slice(base.get(start..start.checked_add(length)?)?);
        } else if op != 0 {
            let (insert, rest) = at.split_at_checked(usize::from(op))?;
            out.extend_from_slice(insert);
            at = rest;
        } else {
            return None;
        }
        if out.len() > size {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

#[cfg(test)]
mod tests;
