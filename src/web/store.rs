//! The gallery in the browser: kept in IndexedDB (with a copy in Cache Storage, see `js/glue.js`),
//! optionally encrypted with WebCrypto, and changed only once a change is saved.

use super::panic::forced_panic_point;
use super::{decrypt, derive_key, encrypt, error, js_error, load_gallery, random_bytes, save_gallery, to_js};
use crate::error::ErrorKind;
use crate::gallery::{self, sealed};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The IndexedDB database the galleries live in.
const DATABASE: &str = "localface";

/// The key a stored gallery is encrypted with: derived once (PBKDF2 is slow on purpose) from the passphrase
/// and the salt, then used with a fresh nonce for every save.
#[derive(Clone)]
struct Seal {
    key: JsValue,
    salt: [u8; 16],
    iterations: u32,
}

impl Seal {
    async fn derive(passphrase: &str, salt: [u8; 16], iterations: u32) -> Result<Seal, JsValue> {
        Ok(Seal { key: derive_key(passphrase, &salt, iterations).await?, salt, iterations })
    }

    /// A new salt, for a gallery not yet encrypted.
    async fn fresh(passphrase: &str) -> Result<Seal, JsValue> {
        let salt = random_bytes(16).try_into().map_err(|_| error(ErrorKind::Io, "no random salt"))?;
        Seal::derive(passphrase, salt, sealed::ITERATIONS).await
    }

    /// The sealed file of a plain gallery file.
    async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, JsValue> {
        let nonce: [u8; 12] = random_bytes(12).try_into().map_err(|_| error(ErrorKind::Io, "no random nonce"))?;
        let mut out = sealed::header(self.iterations, &self.salt, &nonce);
        let ciphertext = encrypt(&self.key, &nonce, &out, plain).await?;
        out.extend(js_sys::Uint8Array::new(&ciphertext).to_vec());
        Ok(out)
    }
}

/// A sealed file opened with a passphrase: the plain gallery file, and the seal to save it with again.
async fn open_sealed(bytes: &[u8], passphrase: &str) -> Result<(Vec<u8>, Seal), JsValue> {
    let parts = sealed::parse(bytes).map_err(js_error)?;
    let seal = Seal::derive(passphrase, parts.salt, parts.iterations).await?;
    let plain = decrypt(&seal.key, &parts.nonce, parts.header, parts.ciphertext).await?;
    Ok((js_sys::Uint8Array::new(&plain).to_vec(), seal))
}

/// The gallery and where it is stored; shared by a recognizer and its `Gallery` object.
pub(super) struct Store {
    pub(super) gallery: gallery::Gallery,
    key: Option<String>,
    /// Set when the stored gallery is encrypted.
    seal: Option<Seal>,
    /// For importing encrypted files.
    passphrase: Option<String>,
    /// A change is being saved: further changes wait for it (they would overwrite it).
    saving: bool,
    /// Counts the changes, so that live tracks know to decide their names again.
    pub(super) generation: u64,
    /// Why the stored gallery was read from its copy in Cache Storage on loading, if it was.
    restored: Option<String>,
}

pub(super) type Shared = Rc<RefCell<Store>>;

impl Store {
    /// The gallery stored under `key` (IndexedDB), or one in memory only when `key` is None, for the
    /// embedder named `embedder` (of `dim`-d embeddings): a stored gallery another embedder made is refused.
    pub(super) async fn open(
        key: Option<String>,
        passphrase: Option<String>,
        dim: usize,
        embedder: &str,
    ) -> Result<Store, JsValue> {
        let (gallery, seal, restored) = match &key {
            Some(key) => load_store(key, passphrase.as_deref(), dim, embedder).await?,
            None => (gallery::Gallery::new(dim, embedder), None, None),
        };
        gallery.check_embedder(embedder, dim).map_err(js_error)?;
        Ok(Store { gallery, key, seal, passphrase, saving: false, restored, generation: 0 })
    }
}

/// Applies `change` to a copy of the gallery, stores the copy, and only then makes it current: a failed save
/// (quota, closed tab) leaves memory and storage as they were.
pub(super) async fn change_gallery(
    store: &Shared,
    change: impl FnOnce(&mut gallery::Gallery) -> crate::Result<()>,
) -> Result<(), JsValue> {
    let (mut next, key, seal) = {
        let s = store.borrow();
        if s.saving {
            return Err(error(
                ErrorKind::GalleryBusy,
                "a gallery change is still being saved: await it before the next",
            ));
        }
        (s.gallery.clone(), s.key.clone(), s.seal.clone())
    };
    change(&mut next).map_err(js_error)?;
    if let Some(key) = key {
        store.borrow_mut().saving = true;
        let saved = store_bytes(&key, &next, seal.as_ref()).await;
        store.borrow_mut().saving = false;
        saved?;
    }
    let mut s = store.borrow_mut();
    s.gallery = next;
    s.generation += 1;
    Ok(())
}

/// Writes a gallery to IndexedDB, encrypted when there is a seal.
async fn store_bytes(key: &str, gallery: &gallery::Gallery, seal: Option<&Seal>) -> Result<(), JsValue> {
    let bytes = match seal {
        Some(seal) => seal.seal(&gallery.to_bytes()).await?,
        None => gallery.to_bytes(),
    };
    save_gallery(DATABASE, key, &bytes).await.map(|_| ())
}

/// The stored gallery under `key` (empty if none), the seal to save it with when there is a passphrase, and
/// why it was read from its copy in Cache Storage rather than IndexedDB (if it was). With a passphrase, a
/// plain or missing stored gallery is stored encrypted at once.
async fn load_store(
    key: &str,
    passphrase: Option<&str>,
    dim: usize,
    embedder: &str,
) -> Result<(gallery::Gallery, Option<Seal>, Option<String>), JsValue> {
    let stored = load_gallery(DATABASE, key).await?;
    // `{ bytes, restored }`, or null when nothing is stored (reading a field of null fails: None).
    let field =
        |name: &str| js_sys::Reflect::get(&stored, &name.into()).ok().filter(|v| !v.is_null() && !v.is_undefined());
    let bytes = field("bytes").map(|b| js_sys::Uint8Array::new(&b).to_vec());
    let restored = field("restored").and_then(|r| r.as_string());
    let unreadable = |e: crate::Error| {
        let message =
            format!("the stored gallery '{key}' is unreadable ({}); import a backup or clear it", e.message());
        error(ErrorKind::GalleryCorrupt, message)
    };
    if let Some(b) = bytes.as_deref().filter(|b| sealed::is_sealed(b)) {
        let p = passphrase.ok_or_else(|| {
            error(ErrorKind::GalleryLocked, format!("the stored gallery '{key}' is encrypted: give its passphrase"))
        })?;
        let (plain, seal) = open_sealed(b, p).await?;
        let g = gallery::Gallery::from_bytes(&plain).map_err(unreadable)?;
        return Ok((g, Some(seal), restored));
    }
    let g = match bytes {
        Some(b) => gallery::Gallery::from_bytes(&b).map_err(unreadable)?,
        None => gallery::Gallery::new(dim, embedder),
    };
    let Some(p) = passphrase else { return Ok((g, None, restored)) };
    // Stored encrypted at once, so that the gallery stays locked from now on, even while empty.
    let seal = Seal::fresh(p).await?;
    store_bytes(key, &g, Some(&seal)).await?;
    Ok((g, Some(seal), restored))
}

/// The enrolled people. Every change is saved before it takes effect.
#[wasm_bindgen]
pub struct Gallery {
    pub(super) store: Shared,
}

#[wasm_bindgen]
impl Gallery {
    /// [{ name, samples }] in enrolment order.
    pub fn people(&self) -> Result<JsValue, JsValue> {
        forced_panic_point("Gallery.people");
        #[derive(Serialize)]
        struct Person {
            name: String,
            samples: usize,
        }
        let s = self.store.borrow();
        let people: Vec<Person> =
            s.gallery.names().iter().map(|n| Person { name: n.clone(), samples: s.gallery.count(n) }).collect();
        to_js(&people)
    }

    pub async fn rename(&self, from: String, to: String) -> Result<(), JsValue> {
        forced_panic_point("Gallery.rename");
        change_gallery(&self.store, |g| g.rename(&from, &to)).await
    }

    pub async fn remove(&self, name: String) -> Result<(), JsValue> {
        forced_panic_point("Gallery.remove");
        change_gallery(&self.store, |g| g.remove(&name)).await
    }

    pub async fn clear(&self) -> Result<(), JsValue> {
        forced_panic_point("Gallery.clear");
        change_gallery(&self.store, |g| {
            *g = gallery::Gallery::new(g.dim(), g.embedder());
            Ok(())
        })
        .await
    }

    /// The gallery as a file (versioned and checksummed): keep it as a backup or move it to another device.
    pub fn export(&self) -> Vec<u8> {
        forced_panic_point("Gallery.export");
        self.store.borrow().gallery.to_bytes()
    }

    /// The gallery is stored encrypted (a passphrase was given).
    #[wasm_bindgen(getter)]
    pub fn encrypted(&self) -> bool {
        forced_panic_point("Gallery.encrypted");
        self.store.borrow().seal.is_some()
    }

    /// Set when loading read the stored gallery from its copy in Cache Storage, because IndexedDB could not be
    /// read, had lost it (Chromium resets a database it finds corrupt) or held an older one: says which.
    #[wasm_bindgen(getter)]
    pub fn restored(&self) -> Option<String> {
        forced_panic_point("Gallery.restored");
        self.store.borrow().restored.clone()
    }

    /// Replaces the gallery with an exported file (plain, or encrypted with this recognizer's passphrase),
    /// after checking it whole.
    pub async fn import(&self, bytes: Vec<u8>) -> Result<(), JsValue> {
        forced_panic_point("Gallery.import");
        let plain = match sealed::is_sealed(&bytes) {
            false => bytes,
            true => {
                let passphrase = self.store.borrow().passphrase.clone();
                let p = passphrase.ok_or_else(|| {
                    error(ErrorKind::GalleryLocked, "the file is encrypted: create the recognizer with its passphrase")
                })?;
                open_sealed(&bytes, &p).await?.0
            }
        };
        let imported = gallery::Gallery::from_bytes(&plain).map_err(js_error)?;
        change_gallery(&self.store, |g| {
            imported.check_embedder(g.embedder(), g.dim())?;
            *g = imported;
            Ok(())
        })
        .await
    }
}
