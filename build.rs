//! Tells the browser tests (tests/web.rs) whether the shared photos are there to be compiled in: they read
//! them with include_bytes!, and skip where ../shared/data/faces is absent.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_faces)");
    println!("cargo::rerun-if-changed=../shared/data/faces");
    if std::path::Path::new("../shared/data/faces/emotions-a/a1.jpg").exists() {
        println!("cargo::rustc-cfg=shared_faces");
    }
}
