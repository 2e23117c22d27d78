//! Fuzzes image decoding (the CLI's files, photos enrolled from files): any bytes give a frame or an
//! error, never a panic; a frame that decodes has the size it claims.
//!
//! Run with the format tokens: `cargo fuzz run -s none --release image_decode -- -dict=image_decode.dict`.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use localface::gallery::crc32;

fuzz_target!(init: {
    // `decode` turns a panic inside a third-party decoder into an error: keep quiet about those only. Any
    // other panic goes to libfuzzer-sys's hook (set before `init`), which prints it and aborts there, so
    // libFuzzer saves the input.
    localface::frame::quiet_decoder_panics();
}, |data: &[u8]| {
    if let Ok(frame) = localface::frame::decode(data) {
        assert_eq!(frame.data.len(), frame.width * frame.height * 3);
        assert!(frame.width > 0 && frame.height > 0);
    }
});

// Two ways of mutating, so that mutations reach the chunk parsers instead of dying at the container:
// - one mutation in four changes the contents of a single PNG or WebP chunk (an ANMF frame's subchunks
//   count as chunks too) and rewrites every length around it, and the PNG checksum: an insert or erase
//   inside a chunk would otherwise shift every chunk after it and break the file at the first one;
// - the rest are libFuzzer's own mutations of the whole file, after which five in six have their PNG
//   checksums made right (the PNG decoder checks each chunk's CRC before parsing it, so a changed chunk
//   almost always fails there); the sixth keeps them as mutated, so the mismatch path stays covered.
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed.is_multiple_of(4) {
        if let Some(size) = mutate_one_chunk(data, size, max_size, seed / 4) {
            return size;
        }
    }
    let size = libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    if seed % 8 != 1 {
        fix_png_crcs(&mut data[..size]);
    }
    size
});

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Rewrites the CRC of each whole chunk after the PNG signature; stops at the first chunk that runs past
/// the end. Anything that is not a PNG is left alone.
fn fix_png_crcs(png: &mut [u8]) {
    if !png.starts_with(PNG_SIGNATURE) {
        return;
    }
    for chunk in png_chunks(png) {
        write_png_crc(png, chunk.header, chunk.payload_len);
    }
}

/// Writes the CRC of the PNG chunk whose header is at `header`: over its type and payload, after both.
fn write_png_crc(png: &mut [u8], header: usize, payload_len: usize) {
    let crc_at = header + 8 + payload_len;
    let crc = crc32(&png[header + 4..crc_at]);
    png[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
}

/// A chunk of a PNG or WebP file, by the offset of its 8-byte header (length and type, in the format's
/// order) and the offsets of the WebP size fields that enclose it (the RIFF's, an ANMF's).
struct Chunk {
    header: usize,
    payload_len: usize,
    enclosing_sizes: Vec<usize>,
}

/// Mutates the contents of one chunk, chosen by `choice`, and mends the file around it. None when the
/// file is neither a PNG nor a WebP, or has no whole chunk.
fn mutate_one_chunk(data: &mut [u8], size: usize, max_size: usize, choice: u32) -> Option<usize> {
    let file = &data[..size];
    let is_png = file.starts_with(PNG_SIGNATURE);
    let chunks = if is_png {
        png_chunks(file)
    } else if file.len() >= 12 && &file[..4] == b"RIFF" && &file[8..12] == b"WEBP" {
        webp_chunks(file, 12, file.len(), &[4])
    } else {
        return None;
    };
    if chunks.is_empty() {
        return None;
    }
    let chunk = &chunks[choice as usize % chunks.len()];
    let start = chunk.header + 8;
    let old_len = chunk.payload_len;
    // What follows the payload: a PNG chunk's CRC; a WebP chunk's pad to an even length, if it is there.
    let tail = if is_png { start + old_len + 4 } else { (start + old_len + old_len % 2).min(size) };
    let outside = start + (size - tail) + 4; // with room for the new CRC or pad
    let room = max_size.checked_sub(outside).filter(|&room| room > 0 && room >= old_len)?;

    let mut payload = vec![0; room];
    payload[..old_len].copy_from_slice(&file[start..start + old_len]);
    let new_len = libfuzzer_sys::fuzzer_mutate(&mut payload, old_len, room);
    let mut out = file[..start].to_vec();
    out.extend_from_slice(&payload[..new_len]);
    if is_png {
        out.extend_from_slice(&[0; 4]);
    } else if new_len % 2 == 1 {
        out.push(0);
    }
    out.extend_from_slice(&file[tail..]);

    if is_png {
        out[chunk.header..chunk.header + 4].copy_from_slice(&(new_len as u32).to_be_bytes());
        write_png_crc(&mut out, chunk.header, new_len);
    } else {
        out[chunk.header + 4..start].copy_from_slice(&(new_len as u32).to_le_bytes());
        for &at in &chunk.enclosing_sizes {
            let old = u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
            let new = (old as i64 + out.len() as i64 - size as i64).clamp(0, u32::MAX as i64) as u32;
            out[at..at + 4].copy_from_slice(&new.to_le_bytes());
        }
    }
    data[..out.len()].copy_from_slice(&out);
    Some(out.len())
}

/// The whole chunks after the PNG signature, up to the first that runs past the end.
fn png_chunks(png: &[u8]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut at = PNG_SIGNATURE.len();
    while at + 12 <= png.len() {
        let payload_len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        if payload_len > png.len() - at - 12 {
            break;
        }
        chunks.push(Chunk { header: at, payload_len, enclosing_sizes: Vec::new() });
        at += 12 + payload_len;
    }
    chunks
}

/// The whole WebP chunks in `webp[at..end]`, and those inside each ANMF frame (after its 16-byte frame
/// header), with the size fields that enclose each.
fn webp_chunks(webp: &[u8], mut at: usize, end: usize, enclosing_sizes: &[usize]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    while at + 8 <= end {
        let payload_len = u32::from_le_bytes(webp[at + 4..at + 8].try_into().unwrap()) as usize;
        if payload_len > end - at - 8 {
            break;
        }
        chunks.push(Chunk { header: at, payload_len, enclosing_sizes: enclosing_sizes.to_vec() });
        if &webp[at..at + 4] == b"ANMF" && payload_len > 16 {
            let inside = [enclosing_sizes, &[at + 4]].concat();
            chunks.extend(webp_chunks(webp, at + 24, at + 8 + payload_len, &inside));
        }
        at += 8 + payload_len + payload_len % 2;
    }
    chunks
}
