//! The gallery's bytes on disk (and in the browser's storage). Little-endian, version 3:
//!
//! ```text
//! "LFGALLRY"  magic, 8 bytes
//! u32         version (3)
//! u32         dim: the embedding width
//! u32         people
//! u32         rows: embeddings, all people together
//! u16, UTF-8  the embedder's name (`face::embed::Embedder::name`), at most 64 bytes
//! people x    u16 name length, UTF-8 name
//! rows x      u32 person index, u32 template (0 shot, 1 masked, 2 sunglasses), dim x f32
//! u32         CRC-32 (IEEE) of everything before it
//! ```
//!
//! Version 2 (before the embedder's name) is the same without it: MobileFaceNet made every gallery then.
//! Version 1 (before occluded templates) is version 2 without the template field: every row is a shot.
//! Galleries are always written as version 3; all three are read. Every count is checked against the bytes that
//! must hold it before anything is allocated.

use super::{check_name, crc32, Gallery, Template, MAX_DIM};
use crate::error::{Error, ErrorKind, Result};

const MAGIC: &[u8; 8] = b"LFGALLRY";
const VERSION: u32 = 3;
/// The longest embedder name a file may hold.
const MAX_EMBEDDER: usize = 64;
/// The embedder of every gallery written before version 3.
const EARLIER_EMBEDDER: &str = "MobileFaceNet";

impl Gallery {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.names.len() * 16 + self.owner.len() * (8 + 4 * self.dim));
        out.extend_from_slice(MAGIC);
        for v in [VERSION, self.dim as u32, self.names.len() as u32, self.owner.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(self.embedder.len() as u16).to_le_bytes());
        out.extend_from_slice(self.embedder.as_bytes());
        for name in &self.names {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        for ((row, &o), &t) in self.matrix.chunks_exact(self.dim).zip(&self.owner).zip(&self.templates) {
            out.extend_from_slice(&o.to_le_bytes());
            out.extend_from_slice(&(t as u32).to_le_bytes());
            row.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Gallery> {
        let bad = |m: String| Err(corrupt(m));
        if bytes.len() < MAGIC.len() + 20 || &bytes[..8] != MAGIC {
            return bad("not a localface gallery (bad magic or too short)".into());
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(tail.try_into().expect("4 bytes"));
        let mut r = Reader { bytes: body, pos: 8 };
        let version = r.u32()?;
        if !(1..=VERSION).contains(&version) {
            return bad(format!("version {version}, this build reads versions 1 to {VERSION}"));
        }
        if crc32(body) != stored {
            return bad("checksum mismatch: the file is corrupt or truncated".into());
        }
        let (dim, people, rows) = (r.u32()? as usize, r.u32()? as usize, r.u32()? as usize);
        if dim == 0 || dim > MAX_DIM {
            return bad(format!("embedding width {dim}"));
        }
        // Each person needs at least 2 bytes and each row its fields: check before allocating.
        let row_bytes = if version == 1 { 4 } else { 8 } + 4 * dim;
        if people.saturating_mul(2) > r.left() || rows.saturating_mul(row_bytes) > r.left() || people > rows {
            return bad(format!("{people} people and {rows} embeddings do not fit in {} bytes", bytes.len()));
        }
        let embedder = match version {
            3 => {
                let len = r.u16()? as usize;
                if len == 0 || len > MAX_EMBEDDER {
                    return bad(format!("an embedder name of {len} bytes"));
                }
                std::str::from_utf8(r.take(len)?).map_err(|_| corrupt("the embedder name is not UTF-8"))?
            }
            _ => EARLIER_EMBEDDER,
        };
        let mut g = Gallery::new(dim, embedder);
        read_names(&mut r, people, &mut g)?;
        g.matrix.reserve_exact(rows * dim);
        g.owner.reserve_exact(rows);
        g.templates.reserve_exact(rows);
        for _ in 0..rows {
            let o = r.u32()?;
            if o as usize >= people {
                return bad(format!("an embedding belongs to person {o} of {people}"));
            }
            let template = match version {
                1 => Template::Shot,
                _ => Template::from_code(r.u32()?).ok_or_else(|| corrupt("an embedding of an unknown template"))?,
            };
            let values = r.take(4 * dim)?;
            g.matrix.extend(values.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
            g.owner.push(o);
            g.templates.push(template);
        }
        if r.left() != 0 {
            return bad(format!("{} unexpected bytes at the end", r.left()));
        }
        if g.matrix.iter().any(|v| !v.is_finite()) {
            return bad("an embedding has a NaN or infinite value".into());
        }
        let mut has_shot = vec![false; people];
        g.owner
            .iter()
            .zip(&g.templates)
            .filter(|(_, &t)| t == Template::Shot)
            .for_each(|(&o, _)| has_shot[o as usize] = true);
        if has_shot.contains(&false) {
            return bad("a person has no embedding of their own face".into());
        }
        Ok(g)
    }
}

fn read_names(r: &mut Reader, people: usize, g: &mut Gallery) -> Result<()> {
    // A set, not `index`: a file of 100,000 people must not take 10^10 comparisons.
    let mut seen = std::collections::HashSet::with_capacity(people);
    for _ in 0..people {
        let len = r.u16()? as usize;
        let name = std::str::from_utf8(r.take(len)?).map_err(|_| corrupt("a name is not UTF-8"))?;
        check_name(name).map_err(|e| corrupt(e.message()))?;
        if !seen.insert(name) {
            return Err(corrupt(format!("'{name}' is listed twice")));
        }
        g.names.push(name.to_string());
    }
    Ok(())
}

/// A gallery file that cannot be read as one.
fn corrupt(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::GalleryCorrupt, format!("gallery file: {message}"))
}

/// A bounds-checked cursor over the file's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(corrupt("truncated"));
        }
        self.pos += n;
        Ok(&self.bytes[self.pos - n..self.pos])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    /// Rewrites the CRC after an edit of the body.
    fn sealed_crc(mut b: Vec<u8>) -> Vec<u8> {
        let len = b.len();
        let crc = crc32(&b[..len - 4]);
        b[len - 4..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    #[test]
    fn a_version_1_file_reads_as_shots() {
        // Version 1, written by hand: dim 2, one person "ada", two rows.
        let mut b = MAGIC.to_vec();
        [1u32, 2, 1, 2].iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        b.extend_from_slice(&3u16.to_le_bytes());
        b.extend_from_slice(b"ada");
        for row in [[1.0f32, 0.0], [0.0, 1.0]] {
            b.extend_from_slice(&0u32.to_le_bytes());
            row.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        }
        b.extend_from_slice(&[0; 4]);
        let g = Gallery::from_bytes(&sealed_crc(b)).unwrap();
        assert_eq!((g.names(), g.count("ada"), g.len()), (&["ada".to_string()][..], 2, 2));
        assert!(g.templates.iter().all(|&t| t == Template::Shot));
        // Made by MobileFaceNet, the only embedder then; written back, it is version 3 and says so.
        assert_eq!(g.embedder(), "MobileFaceNet");
        assert_eq!(g.to_bytes()[8..12], VERSION.to_le_bytes());
        assert_eq!(Gallery::from_bytes(&g.to_bytes()).unwrap().embedder(), "MobileFaceNet");
    }

    #[test]
    fn the_embedder_name_is_kept_and_checked() {
        let mut g = sample();
        g.embedder = "fr_feature".into();
        let back = Gallery::from_bytes(&g.to_bytes()).unwrap();
        assert_eq!(back.embedder(), "fr_feature");
        assert!(back.check_embedder("fr_feature", back.dim()).is_ok());
        let e = back.check_embedder("MobileFaceNet", back.dim()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::GalleryCorrupt);
        assert!(e.message().contains("made by the embedder fr_feature"), "{e}");
        // An empty or overlong name is refused.
        let mut bytes = g.to_bytes();
        bytes[24..26].copy_from_slice(&0u16.to_le_bytes());
        assert!(Gallery::from_bytes(&sealed_crc(bytes)).unwrap_err().to_string().contains("embedder name of 0 bytes"));
    }

    #[test]
    fn unknown_templates_and_template_only_people_are_refused() {
        let bytes = sample().to_bytes();
        // The rows start after the header (24 bytes), the embedder's name ("MobileFaceNet": 2 + 13) and the
        // names ("ada", "bob": 2 + 3 each).
        let rows = 24 + 15 + 10;
        let row = 8 + 4 * 8;
        let mut b = bytes.clone();
        b[rows + 4..rows + 8].copy_from_slice(&7u32.to_le_bytes());
        let e = Gallery::from_bytes(&sealed_crc(b)).unwrap_err().to_string();
        assert!(e.contains("unknown template"), "{e}");
        // Bob's shot (the second row) made a masked template: he has no shot left.
        let mut b = bytes;
        b[rows + row + 4..rows + row + 8].copy_from_slice(&(Template::Masked as u32).to_le_bytes());
        let e = Gallery::from_bytes(&sealed_crc(b)).unwrap_err().to_string();
        assert!(e.contains("no embedding of their own face"), "{e}");
    }
}
