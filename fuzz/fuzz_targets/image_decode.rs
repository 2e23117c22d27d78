//! Fuzzes image decoding (the CLI's files, photos enrolled from files): any bytes give a frame or an
//! error, never a panic; a frame that decodes has the size it claims.
//!
//! Run with the format tokens: `cargo fuzz run -s none --release image_decode -- -dict=image_decode.dict`.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use localface::gallery::crc32;

fuzz_target!(init: {
    // `decode` turns a panic inside a third-party decoder into an error; keep the hook quiet about those.
    // A panic that escapes `decode` still reaches libFuzzer, which reports it as a crash.
    std::panic::set_hook(Box::new(|_| {}));
}, |data: &[u8]| {
    if let Ok(frame) = localface::frame::decode(data) {
        assert_eq!(frame.data.len(), frame.width * frame.height * 3);
        assert!(frame.width > 0 && frame.height > 0);
    }
});

// PNG ends every chunk with a CRC of its type and data, and the decoder checks it: a mutated chunk almost
// always fails there, so plain mutation rarely gets past the first chunk it changes. Seven mutations in
// eight have their PNG checksums made right; the eighth keeps them as mutated, so the mismatch path stays
// covered too.
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let size = libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    if seed % 8 != 0 {
        fix_png_crcs(&mut data[..size]);
    }
    size
});

/// Rewrites the CRC of each whole chunk after the PNG signature; stops at the first chunk that runs past
/// the end. Anything that is not a PNG is left alone.
fn fix_png_crcs(png: &mut [u8]) {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !png.starts_with(SIGNATURE) {
        return;
    }
    let mut at = SIGNATURE.len();
    while at + 12 <= png.len() {
        let length = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]) as usize;
        let Some(crc_at) = (at + 8).checked_add(length).filter(|&c| c + 4 <= png.len()) else {
            return;
        };
        let crc = crc32(&png[at + 4..crc_at]);
        png[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
        at = crc_at + 4;
    }
}
