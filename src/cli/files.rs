//! The command-line tool over many photos: folders expanded into the images in them, the work spread over
//! every core, the results given in input order, and a progress bar where someone watches (stderr is a
//! terminal).

use indicatif::{ProgressBar, ProgressStyle};
use localface::{Error, Result};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The extensions of the images a folder is searched for (the formats `frame::decode` reads).
const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// The files named, with each folder replaced by the images in it and its subfolders, sorted by path.
pub fn expand(inputs: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let path = PathBuf::from(input);
        if path.is_dir() {
            let mut found = Vec::new();
            images_in(&path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn images_in(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(format!("{}: {e}", dir.display())))?.path();
        if path.is_dir() {
            images_in(&path, found)?;
        } else if is_image(&path) {
            found.push(path);
        }
    }
    Ok(())
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// How many threads to use: `--threads`, or one per core.
pub fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

/// Runs `work` on every file on `threads` threads, and `done` on this thread for each file in input order
/// (so that output lines and gallery changes come in the order given), while a progress bar counts them.
pub fn each_in_order<T: Send>(
    files: &[PathBuf],
    threads: usize,
    work: impl Fn(&Path) -> Result<T> + Sync,
    mut done: impl FnMut(&Path, Result<T>),
) {
    let bar = progress_bar(files.len());
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(files.len()) {
            let send = send.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                if send.send((i, work(file))).is_err() {
                    break;
                }
            });
        }
        drop(send);
        // Results arrive in any order: each waits here until those before it are done.
        let mut waiting = BTreeMap::new();
        let mut printed = 0;
        for (i, result) in receive {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&printed) {
                bar.suspend(|| done(&files[printed], result));
                printed += 1;
                bar.inc(1);
            }
        }
    });
    bar.finish_and_clear();
}

/// A bar on stderr when it is a terminal; a hidden one (drawing nothing) when it is piped or redirected.
fn progress_bar(len: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} photos, {per_sec}, {eta} left")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
