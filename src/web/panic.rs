//! What a panic does in the browser. Panics abort on wasm32 (a trap: `RuntimeError: unreachable`), so Rust
//! cannot catch them; in an async call the trap even happens in a microtask, where no caller's try/catch can
//! see it. So the panic hook reports the panic to the package's JS guard (`js/guard.js`), which rejects the
//! calls under way with a `Panicked` error and then has the module restart (`scheduleRestart`): objects made
//! before the panic then refuse with `RecognizerLost`, and new ones work.
//!
//! `panicOnNextCall` is fault injection for the tests: it makes the named export panic once, so that every
//! export's way out is tested with a real trap.

use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// Called with the panic's message (the JS guard's `onPanic`).
    static LISTENER: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
    /// The export that panics when next called (fault injection).
    static FORCED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook (once per instance) and the function it reports panics to.
#[wasm_bindgen(js_name = setPanicListener)]
pub fn set_panic_listener(listener: js_sys::Function) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(on_panic)));
    LISTENER.with(|l| *l.borrow_mut() = Some(listener));
}

fn on_panic(info: &std::panic::PanicHookInfo) {
    let message = format!("localface panicked: {info}");
    web_sys::console::error_1(&message.clone().into());
    // A listener that throws must not turn the panic into a second one.
    let listener = LISTENER.with(|l| l.borrow_mut().take());
    if let Some(listener) = listener {
        let _ = listener.call1(&JsValue::NULL, &message.into());
    }
}

/// Makes the next call into the module start a fresh instance of it: after a panic, which leaves this one in
/// an unknown state (borrows held, memory half written). The JS guard calls it once the trap has unwound; from
/// the hook it would be too early, as the glue's cleanup of the panicking call would reach the new instance.
#[wasm_bindgen(js_name = scheduleRestart)]
pub fn schedule_restart() {
    wasm_bindgen::handler::schedule_reinit();
}

/// Makes the export named `export` (for example "Recognizer.identify") panic the next time it is called.
#[wasm_bindgen(js_name = panicOnNextCall)]
pub fn panic_on_next_call(export: String) {
    FORCED.with(|f| *f.borrow_mut() = Some(export));
}

/// Called first by every export: panics where `panicOnNextCall` named it.
pub(super) fn forced_panic_point(export: &str) {
    let armed = FORCED.with(|f| f.borrow().as_deref() == Some(export));
    if armed {
        FORCED.with(|f| f.borrow_mut().take());
        panic!("forced panic in {export} (panicOnNextCall)");
    }
}
