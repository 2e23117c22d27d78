//! The gallery: enrolled people, each with one or more embeddings; 1:N search. The file format is in
//! `file.rs`.

mod crc32;
mod file;
pub mod sealed;

pub use crc32::crc32;

use crate::error::{Error, ErrorKind, Result};
use std::path::Path;

/// The widest embedding and the longest name a file may declare.
const MAX_DIM: usize = 4096;
const MAX_NAME: usize = 256;

/// How embeddings are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Cosine similarity: higher is more alike.
    Cosine,
    /// Euclidean distance between the unit vectors: lower is more alike.
    Euclidean,
}

impl std::str::FromStr for Metric {
    type Err = Error;

    fn from_str(s: &str) -> Result<Metric> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            other => Err(crate::error::unknown_choice("metric", other, &["cosine", "euclidean"])),
        }
    }
}

impl Metric {
    /// The score of two unit vectors under this metric.
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        let cos = dot(a, b);
        match self {
            Metric::Cosine => cos,
            Metric::Euclidean => cosine_to_distance(cos),
        }
    }

    /// Whether `score` is a match for `threshold`.
    pub fn accepts(self, score: f32, threshold: f32) -> bool {
        match self {
            Metric::Cosine => score >= threshold,
            Metric::Euclidean => score <= threshold,
        }
    }

    /// The default threshold under this metric, from the cosine threshold measured on the shared photos.
    pub fn default_threshold(self) -> f32 {
        self.threshold_of(DEFAULT_COSINE_THRESHOLD)
    }

    /// A cosine threshold (an embedder's own, `face::embed::Spec`) under this metric.
    pub fn threshold_of(self, cosine: f32) -> f32 {
        match self {
            Metric::Cosine => cosine,
            Metric::Euclidean => cosine_to_distance(cosine),
        }
    }
}

/// Two faces are the same person at or above this cosine similarity. Chosen between the same-person and
/// different-person distributions measured on ../shared/data/faces (see the README).
pub const DEFAULT_COSINE_THRESHOLD: f32 = 0.5;

/// What an embedding of an enrolled person was made from.
///
/// Besides each shot's own embedding, enrolment stores the same aligned crop with a surgical mask and with
/// dark glasses drawn on it (`face::occlusion`): a masked face is much more like a masked template of the
/// same person than like their bare face. But two masked faces are also more alike than two bare faces,
/// whoever wears them, so a template's similarity must pass the threshold by a margin.
///
/// The discriminants are the file format's codes (`file.rs`): never renumber them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// The face as it was photographed.
    Shot = 0,
    /// The shot with a surgical mask drawn on.
    Masked = 1,
    /// The shot with dark glasses drawn on.
    Sunglasses = 2,
}

impl Template {
    /// How much more than the threshold this template's cosine similarity must reach, for the embedder
    /// named `embedder` (each has its own: `face::embed::Spec`; another file takes MobileFaceNet's).
    pub fn margin(self, embedder: &str) -> f32 {
        let spec = crate::face::embed::Spec::named(embedder).unwrap_or(&crate::face::embed::SPECS[0]);
        match self {
            Template::Shot => 0.0,
            Template::Masked => spec.masked_margin,
            Template::Sunglasses => spec.sunglasses_margin,
        }
    }

    /// The code the file format stores.
    fn from_code(code: u32) -> Option<Template> {
        [Template::Shot, Template::Masked, Template::Sunglasses].into_iter().find(|&t| t as u32 == code)
    }
}

/// For unit vectors, |a - b| = sqrt(2 - 2 cos).
pub fn cosine_to_distance(cos: f32) -> f32 {
    (2.0 - 2.0 * cos).max(0.0).sqrt()
}

/// Dot product with independent accumulators, so it runs at full speed without reassociation by the compiler.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A candidate from a search: the person and their best score.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub name: String,
    pub score: f32,
}

/// Who a face is: the best candidates, and the name of the best one when it passes the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The enrolled person, or None for a stranger (or an empty gallery).
    pub name: Option<String>,
    /// The closest people, best first (at least the best one, when anyone is enrolled).
    pub candidates: Vec<Match>,
}

impl Identity {
    /// The best candidate's score, whether it passed or not.
    pub fn score(&self) -> Option<f32> {
        self.candidates.first().map(|m| m.score)
    }
}

/// Enrolled people and their embeddings, stored as one matrix for fast search.
#[derive(Debug, Clone, PartialEq)]
pub struct Gallery {
    dim: usize,
    /// The embedder that made the embeddings.
    embedder: String,
    names: Vec<String>,
    /// rows x dim, row-major.
    matrix: Vec<f32>,
    /// The person index of each row.
    owner: Vec<u32>,
    /// What each row was made from.
    templates: Vec<Template>,
}

impl Gallery {
    /// An empty gallery of `dim`-d embeddings made by the embedder named `embedder`.
    pub fn new(dim: usize, embedder: &str) -> Gallery {
        Gallery { dim, embedder: embedder.to_string(), names: vec![], matrix: vec![], owner: vec![], templates: vec![] }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The name of the embedder that made the gallery's embeddings (`face::embed::Embedder::name`).
    pub fn embedder(&self) -> &str {
        &self.embedder
    }

    /// Refuses a gallery made by another embedder than the one named `embedder` (of `dim`-d embeddings):
    /// its embeddings and the new ones would not compare. The command line and the web API both check here.
    pub fn check_embedder(&self, embedder: &str, dim: usize) -> Result<()> {
        if self.embedder != embedder || self.dim != dim {
            return Err(Error::new(
                ErrorKind::GalleryCorrupt,
                format!(
                    "the gallery was made by the embedder {} ({}-d), not by {embedder} ({dim}-d): its people \
                     would not be found; use that embedder, or another gallery",
                    self.embedder, self.dim
                ),
            ));
        }
        Ok(())
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of embeddings, all people together.
    pub fn len(&self) -> usize {
        self.owner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owner.is_empty()
    }

    /// How many shots of a person are enrolled (their occluded templates not counted).
    pub fn count(&self, name: &str) -> usize {
        let Some(i) = self.index(name) else { return 0 };
        self.owner.iter().zip(&self.templates).filter(|&(&o, &t)| o as usize == i && t == Template::Shot).count()
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Adds a shot's embedding (unit length) to a person, enrolling them if new.
    pub fn add(&mut self, name: &str, embedding: &[f32]) -> Result<()> {
        self.add_template(name, Template::Shot, embedding)
    }

    /// Adds an embedding made from a shot (unit length) to a person. A person is enrolled by a shot: an
    /// occluded template alone cannot enrol anyone.
    pub fn add_template(&mut self, name: &str, template: Template, embedding: &[f32]) -> Result<()> {
        check_name(name)?;
        if template != Template::Shot && self.index(name).is_none() {
            return Err(Error::new(ErrorKind::UnknownPerson, format!("no one named '{name}' to add a template to")));
        }
        if embedding.len() != self.dim {
            return Err(Error::input(format!(
                "embedding of {} values, the gallery holds {}",
                embedding.len(),
                self.dim
            )));
        }
        if embedding.iter().any(|v| !v.is_finite()) {
            return Err(Error::input("embedding has a NaN or infinite value"));
        }
        let person = match self.index(name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        };
        self.matrix.extend_from_slice(embedding);
        self.owner.push(person as u32);
        self.templates.push(template);
        Ok(())
    }

    /// Adds a shot's embeddings (its own first, then its templates) to a person, enrolling them if new: all
    /// of them, or none when one is unusable.
    pub fn enrol(&mut self, name: &str, templates: &[(Template, Vec<f32>)]) -> Result<()> {
        let (people, rows) = (self.names.len(), self.owner.len());
        for (template, embedding) in templates {
            if let Err(e) = self.add_template(name, *template, embedding) {
                self.names.truncate(people);
                self.matrix.truncate(rows * self.dim);
                self.owner.truncate(rows);
                self.templates.truncate(rows);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes a person and all their embeddings.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let Some(person) = self.index(name) else {
            return Err(Error::new(ErrorKind::UnknownPerson, format!("no one named '{name}'")));
        };
        let mut matrix = Vec::with_capacity(self.matrix.len());
        let mut owner = Vec::with_capacity(self.owner.len());
        let mut templates = Vec::with_capacity(self.owner.len());
        for (row, (&o, &t)) in self.owner.iter().zip(&self.templates).enumerate() {
            if o as usize != person {
                matrix.extend_from_slice(&self.matrix[row * self.dim..][..self.dim]);
                owner.push(if o as usize > person { o - 1 } else { o });
                templates.push(t);
            }
        }
        self.names.remove(person);
        (self.matrix, self.owner, self.templates) = (matrix, owner, templates);
        Ok(())
    }

    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        check_name(to)?;
        if self.index(to).is_some() {
            return Err(Error::new(ErrorKind::NameTaken, format!("'{to}' is already enrolled")));
        }
        let Some(person) = self.index(from) else {
            return Err(Error::new(ErrorKind::UnknownPerson, format!("no one named '{from}'")));
        };
        self.names[person] = to.to_string();
        Ok(())
    }

    /// The `k` people most like `query`, best first, each scored by their closest embedding. An occluded
    /// template's similarity counts less its margin, so the one threshold holds for every template.
    pub fn search(&self, query: &[f32], k: usize, metric: Metric) -> Vec<Match> {
        if query.len() != self.dim || self.names.is_empty() {
            return vec![];
        }
        let mut best = vec![f32::NEG_INFINITY; self.names.len()];
        for ((row, &o), &t) in self.matrix.chunks_exact(self.dim).zip(&self.owner).zip(&self.templates) {
            let s = dot(row, query) - t.margin(&self.embedder);
            let b = &mut best[o as usize];
            *b = b.max(s);
        }
        let mut order: Vec<usize> = (0..best.len()).collect();
        let k = k.min(order.len());
        if k == 0 {
            return vec![];
        }
        order.select_nth_unstable_by(k - 1, |&a, &b| best[b].total_cmp(&best[a]));
        order.truncate(k);
        order.sort_by(|&a, &b| best[b].total_cmp(&best[a]));
        order
            .into_iter()
            .map(|i| Match {
                name: self.names[i].clone(),
                score: if metric == Metric::Cosine { best[i] } else { cosine_to_distance(best[i]) },
            })
            .collect()
    }

    /// The `top` best candidates (at least one), and the best one's name if it passes the threshold: the
    /// one decision of who a face is, for the command-line tool and the web API alike.
    pub fn identify(&self, query: &[f32], metric: Metric, threshold: f32, top: usize) -> Identity {
        let candidates = self.search(query, top.max(1), metric);
        let name = candidates.first().filter(|m| metric.accepts(m.score, threshold)).map(|m| m.name.clone());
        Identity { name, candidates }
    }

    /// Reads a gallery file, plain or encrypted; an encrypted one needs its passphrase.
    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<Gallery> {
        let in_file = |e: Error| e.context(path.display());
        let bytes = std::fs::read(path).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
        let plain = match (sealed::is_sealed(&bytes), passphrase) {
            (false, _) => bytes,
            (true, Some(p)) => sealed::open(&bytes, p).map_err(in_file)?,
            (true, None) => {
                return Err(in_file(Error::new(
                    ErrorKind::GalleryLocked,
                    "the gallery is encrypted: give its passphrase",
                )))
            }
        };
        Gallery::from_bytes(&plain).map_err(in_file)
    }

    /// Writes a gallery file atomically, encrypted when a passphrase is given: a temporary file beside it,
    /// flushed, then renamed over it, so a crash leaves either the old file or the new one.
    pub fn save(&self, path: &Path, passphrase: Option<&str>) -> Result<()> {
        let bytes = match passphrase {
            Some(p) => sealed::seal(&self.to_bytes(), p)?,
            None => self.to_bytes(),
        };
        use std::io::Write;
        let io = |e: std::io::Error| Error::io(format!("{}: {e}", path.display()));
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| Error::io(format!("{}: not a file name", path.display())))?;
        let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // Persist the rename itself (best effort: not every platform can open a directory).
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::input(format!(
            "'{name}' is not a usable name (1 to {MAX_NAME} bytes, no control characters)"
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn unit(seed: u32, dim: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..dim)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed.wrapping_mul(97)) % 1000) as f32 - 500.0)
            .collect();
        let n = dot(&v, &v).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    pub(super) fn sample() -> Gallery {
        let mut g = Gallery::new(8, "MobileFaceNet");
        g.add("ada", &unit(1, 8)).unwrap();
        g.add("bob", &unit(2, 8)).unwrap();
        g.add("ada", &unit(3, 8)).unwrap();
        g.add_template("bob", Template::Masked, &unit(4, 8)).unwrap();
        g
    }

    #[test]
    fn round_trip_and_search() {
        let g = sample();
        assert_eq!(Gallery::from_bytes(&g.to_bytes()).unwrap(), g);
        let m = g.search(&unit(3, 8), 2, Metric::Cosine);
        assert_eq!(m[0].name, "ada");
        assert!((m[0].score - 1.0).abs() < 1e-5);
        assert_eq!(m.len(), 2);
        let e = g.identify(&unit(2, 8), Metric::Euclidean, 0.1, 1);
        assert_eq!((e.name.as_deref(), e.score().unwrap() < 1e-3), (Some("bob"), true));
        assert_eq!(g.count("ada"), 2);
    }

    #[test]
    fn an_occluded_template_counts_less_its_margin() {
        let g = sample();
        // Bob's masked template matches exactly, less its margin; his shot would score lower.
        let m = g.search(&unit(4, 8), 1, Metric::Cosine);
        assert_eq!(m[0].name, "bob");
        let margin = |t: Template| t.margin("MobileFaceNet");
        assert!((m[0].score - (1.0 - margin(Template::Masked))).abs() < 1e-5, "{m:?}");
        assert!(margin(Template::Masked) > 0.0 && margin(Template::Sunglasses) > 0.0);
        let threshold = 1.0 - margin(Template::Masked) / 2.0;
        assert_eq!(g.identify(&unit(4, 8), Metric::Cosine, threshold, 1).name, None);
        // Templates are not shots, and cannot enrol anyone on their own.
        assert_eq!((g.count("bob"), g.count("ada"), g.len()), (1, 2, 4));
        let mut g = g;
        let e = g.add_template("eve", Template::Sunglasses, &unit(5, 8)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownPerson);
        // An enrolment is whole or not at all.
        let before = g.clone();
        let bad = [(Template::Shot, unit(5, 8)), (Template::Masked, vec![f32::NAN; 8])];
        assert!(g.enrol("eve", &bad).is_err());
        assert_eq!(g, before);
        g.enrol("eve", &[(Template::Shot, unit(5, 8)), (Template::Masked, unit(6, 8))]).unwrap();
        assert_eq!((g.count("eve"), g.len()), (1, 6));
        g.remove("eve").unwrap();
        g.remove("ada").unwrap();
        assert_eq!((g.len(), g.count("bob")), (2, 1));
        assert_eq!(Gallery::from_bytes(&g.to_bytes()).unwrap(), g);
    }

    #[test]
    fn remove_and_rename_keep_the_rest() {
        let mut g = sample();
        g.remove("ada").unwrap();
        assert_eq!(g.names(), ["bob"]);
        assert_eq!(g.len(), 2);
        assert_eq!(g.search(&unit(2, 8), 1, Metric::Cosine)[0].name, "bob");
        g.rename("bob", "robert").unwrap();
        assert!(g.rename("nobody", "x").is_err());
        assert!(g.add("", &unit(1, 8)).is_err());
        assert!(g.add("x", &[f32::NAN; 8]).is_err());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_refused() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(Gallery::from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(Gallery::from_bytes(&b).is_err(), "bit {i} flipped");
        }
    }

    #[test]
    fn lying_counts_do_not_allocate() {
        let mut b = sample().to_bytes();
        b[20..24].copy_from_slice(&u32::MAX.to_le_bytes()); // rows
        let len = b.len();
        let crc = crc32(&b[..len - 4]);
        b[len - 4..].copy_from_slice(&crc.to_le_bytes());
        let e = Gallery::from_bytes(&b).unwrap_err().to_string();
        assert!(e.contains("do not fit"), "{e}");
    }
}
