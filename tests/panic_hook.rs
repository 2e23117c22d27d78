//! `frame::quiet_decoder_panics` keeps quiet about the panics `decode` catches, and only those. A test
//! binary of its own, because it replaces the process's panic hook, which would swallow other tests' panic
//! messages.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::{Arc, Mutex};

#[test]
fn only_the_panics_decode_catches_are_kept_quiet() {
    let printed = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = printed.clone();
    // Stands for the default hook (or a fuzzer's): it records what it would have printed.
    std::panic::set_hook(Box::new(move |info| record.lock().unwrap().push(info.to_string())));
    localface::frame::quiet_decoder_panics();

    for name in common::DECODER_PANIC_FILES {
        let bytes = std::fs::read(common::test_data(name)).unwrap();
        assert!(localface::frame::decode(&bytes).is_err(), "{name} decoded");
    }
    let bug = std::panic::catch_unwind(|| panic!("a bug outside the decoders"));
    drop(std::panic::take_hook());

    assert!(bug.is_err());
    let printed = printed.lock().unwrap();
    assert_eq!(printed.len(), 1, "the hook was given: {printed:?}");
    assert!(printed[0].contains("a bug outside the decoders"), "{}", printed[0]);
}
