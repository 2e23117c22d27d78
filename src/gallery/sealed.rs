//! A gallery file encrypted with a passphrase: AES-256-GCM, the key from PBKDF2-HMAC-SHA256. The same
//! format natively (RustCrypto) and in the browser (WebCrypto), so a file moves between them.
//!
//! ```text
//! "LFSEALED"  magic, 8 bytes
//! u32         version (1)
//! u32         PBKDF2 iterations
//! 16 bytes    salt
//! 12 bytes    nonce (fresh for every save)
//! ...         AES-256-GCM ciphertext of the plain gallery file, then its 16-byte tag
//! ```
//!
//! The header is the cipher's additional authenticated data: changing any byte of the file, header
//! included, fails the tag check, as does a wrong passphrase (the two cannot be told apart).

use crate::error::{Error, ErrorKind, Result};

pub const MAGIC: &[u8; 8] = b"LFSEALED";
const VERSION: u32 = 1;
pub const HEADER: usize = 8 + 4 + 4 + 16 + 12;
const TAG: usize = 16;
/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub const ITERATIONS: u32 = 600_000;
/// What a file may ask for: fewer is weak, more would let a file stall the reader.
const MIN_ITERATIONS: u32 = 100_000;
const MAX_ITERATIONS: u32 = 10_000_000;

/// The parts of a sealed file.
pub struct Sealed<'a> {
    pub iterations: u32,
    pub salt: [u8; 16],
    pub nonce: [u8; 12],
    /// The header, authenticated with the ciphertext.
    pub header: &'a [u8],
    /// Ciphertext and tag.
    pub ciphertext: &'a [u8],
}

pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The header of a file sealed with these parameters.
pub fn header(iterations: u32, salt: &[u8; 16], nonce: &[u8; 12]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&iterations.to_le_bytes());
    h.extend_from_slice(salt);
    h.extend_from_slice(nonce);
    h
}

/// Splits a sealed file, checking what can be checked without the key.
pub fn parse(bytes: &[u8]) -> Result<Sealed<'_>> {
    let bad = |m: String| Err(Error::new(ErrorKind::GalleryCorrupt, format!("encrypted gallery: {m}")));
    if !is_sealed(bytes) || bytes.len() < HEADER + TAG {
        return bad("not an encrypted localface gallery (bad magic or too short)".into());
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let (version, iterations) = (u32_at(8), u32_at(12));
    if version != VERSION {
        return bad(format!("version {version}, this build reads version {VERSION}"));
    }
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
        return bad(format!("{iterations} key derivation iterations (accepted: {MIN_ITERATIONS} to {MAX_ITERATIONS})"));
    }
    Ok(Sealed {
        iterations,
        salt: bytes[16..32].try_into().expect("16 bytes"),
        nonce: bytes[32..44].try_into().expect("12 bytes"),
        header: &bytes[..HEADER],
        ciphertext: &bytes[HEADER..],
    })
}

/// The error for a tag that does not check out.
pub fn wrong_passphrase() -> Error {
    Error::new(ErrorKind::GalleryLocked, "wrong passphrase, or the encrypted gallery was altered")
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use aes_gcm::aead::rand_core::RngCore;
    use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
    use aes_gcm::{AeadCore, Aes256Gcm};

    fn key(passphrase: &str, salt: &[u8; 16], iterations: u32) -> Aes256Gcm {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase.as_bytes(), salt, iterations, &mut key);
        Aes256Gcm::new(&key.into())
    }

    /// Encrypts a plain gallery file with a fresh salt and nonce.
    pub fn seal(plain: &[u8], passphrase: &str) -> Result<Vec<u8>> {
        let mut salt = [0u8; 16];
        OsRng.try_fill_bytes(&mut salt).map_err(|e| Error::io(format!("no random numbers: {e}")))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = header(ITERATIONS, &salt, &nonce.into());
        let ciphertext = key(passphrase, &salt, ITERATIONS)
            .encrypt(&nonce, Payload { msg: plain, aad: &out })
            .map_err(|_| Error::input("cannot encrypt the gallery"))?;
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a sealed file back to the plain gallery file.
    pub fn open(bytes: &[u8], passphrase: &str) -> Result<Vec<u8>> {
        let s = parse(bytes)?;
        key(passphrase, &s.salt, s.iterations)
            .decrypt(&s.nonce.into(), Payload { msg: s.ciphertext, aad: s.header })
            .map_err(|_| wrong_passphrase())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{open, seal};

/// In the browser the Recognizer encrypts with WebCrypto (src/web); files are sealed natively only.
#[cfg(target_arch = "wasm32")]
pub fn seal(_plain: &[u8], _passphrase: &str) -> Result<Vec<u8>> {
    Err(Error::input("encrypting gallery files is native only: in the browser, give the Recognizer a passphrase"))
}

#[cfg(target_arch = "wasm32")]
pub fn open(_bytes: &[u8], _passphrase: &str) -> Result<Vec<u8>> {
    Err(Error::input("decrypting gallery files is native only: in the browser, give the Recognizer a passphrase"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_a_wrong_passphrase_or_any_change() {
        let plain = b"LFGALLRY and whatever follows".to_vec();
        let sealed = seal(&plain, "correct horse").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(8).any(|w| w == b"whatever"), "the content is not readable");
        assert_eq!(open(&sealed, "correct horse").unwrap(), plain);
        assert_ne!(seal(&plain, "correct horse").unwrap(), sealed, "fresh salt and nonce each time");
        assert!(open(&sealed, "correct horsE").unwrap_err().to_string().contains("wrong passphrase"));
        // Any byte changed after the iteration count (salt, nonce, ciphertext, tag) fails the tag.
        for i in (16..sealed.len()).step_by(5).chain([sealed.len() - 1]) {
            let mut t = sealed.clone();
            t[i] ^= 0x20;
            assert!(open(&t, "correct horse").is_err(), "byte {i} changed");
        }
        assert!(open(&sealed[..sealed.len() - 1], "correct horse").is_err(), "truncated");
    }

    #[test]
    fn a_header_asking_for_absurd_work_or_another_version_is_refused() {
        let mut sealed = seal(b"x", "p").unwrap();
        sealed[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(open(&sealed, "p").unwrap_err().to_string().contains("iterations"));
        sealed[8..12].copy_from_slice(&9u32.to_le_bytes());
        assert!(open(&sealed, "p").unwrap_err().to_string().contains("version 9"));
        assert!(parse(b"LFSEALED").is_err());
    }
}
