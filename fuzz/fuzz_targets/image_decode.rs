//! Fuzzes image decoding (the CLI's files, photos enrolled from files): any bytes give a frame or an
//! error, never a panic; a frame that decodes has the size it claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

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
