//! Fuzzes the gallery file readers (native files, the browser's exports and IndexedDB records): any bytes
//! give a gallery or an error, never a panic or an allocation larger than the file justifies. Each input
//! is read as it is, and again with its checksum made right, so that the fuzzer explores the structure
//! behind the checksum too. A gallery that loads must write back to the same bytes and answer a search.
//! The encrypted container's header parser gets the same bytes (decryption itself is AES-GCM's).
#![no_main]

use libfuzzer_sys::fuzz_target;
use localface::gallery::{crc32, sealed, Gallery, Metric};

fn check(data: &[u8]) {
    let Ok(gallery) = Gallery::from_bytes(data) else { return };
    assert_eq!(gallery.to_bytes(), data, "a gallery that loads writes back to the same bytes");
    let query = vec![0.1; gallery.dim()];
    for metric in [Metric::Cosine, Metric::Euclidean] {
        let found = gallery.search(&query, 3, metric);
        assert!(found.len() <= gallery.names().len());
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let mut fixed = data.to_vec();
        let body = fixed.len() - 4;
        let crc = crc32(&fixed[..body]);
        fixed[body..].copy_from_slice(&crc.to_le_bytes());
        check(&fixed);
    }
    let _ = sealed::parse(data);
});
