//! The `localface` command-line tool: one JSON object per input image per line on stdout, errors on stderr.

use localface::face::{align, embed::Embedder};
use localface::model::Graph;
use localface::{frame, Error, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: localface <command> [options] FILE...

commands:
  embed --aligned CROP...    embed 112x112 face crops that are already aligned

options:
  --models DIR               folder of the .tflite models (default: models, or $LOCALFACE_MODELS)
  --backend cpu|gpu|auto     where the network runs (default: auto)
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Cpu,
    Auto,
}

struct Args {
    command: String,
    models: PathBuf,
    backend: Backend,
    aligned: bool,
    files: Vec<PathBuf>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args> {
    let usage = |m: String| Error::Input(format!("{m}\n\n{USAGE}"));
    let command = it.next().ok_or_else(|| usage("no command".into()))?;
    let mut args = Args {
        command,
        models: std::env::var_os("LOCALFACE_MODELS").map_or_else(|| PathBuf::from("models"), PathBuf::from),
        backend: Backend::Auto,
        aligned: false,
        files: vec![],
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--models" => args.models = it.next().ok_or_else(|| usage("--models needs a folder".into()))?.into(),
            "--backend" => {
                args.backend = match it.next().as_deref() {
                    Some("cpu") => Backend::Cpu,
                    Some("auto") => Backend::Auto,
                    Some("gpu") => return Err(Error::Input("--backend gpu: this build has no GPU backend yet".into())),
                    other => return Err(usage(format!("--backend takes cpu, gpu or auto, not {other:?}"))),
                }
            }
            "--aligned" => args.aligned = true,
            "-h" | "--help" => return Err(usage(String::new())),
            s if s.starts_with("--") => return Err(usage(format!("unknown option {s}"))),
            _ => args.files.push(a.into()),
        }
    }
    if args.files.is_empty() {
        return Err(usage(format!("{}: no input files", args.command)));
    }
    Ok(args)
}

fn load_graph(dir: &Path, file: &str) -> Result<Graph> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::Io(format!("{}: {e} (run scripts/fetch-models.sh?)", path.display())))?;
    Graph::from_tflite(&bytes).map_err(|e| Error::Model(format!("{}: {e}", path.display())))
}

/// Runs `each` on every file, printing its JSON line; a failing file is reported and the others go on.
fn for_each_file(files: &[PathBuf], mut each: impl FnMut(&Path) -> Result<serde_json::Value>) -> bool {
    let mut ok = true;
    for f in files {
        match each(f) {
            Ok(v) => println!("{v}"),
            Err(e) => {
                eprintln!("localface: {}: {e}", f.display());
                ok = false;
            }
        }
    }
    ok
}

fn run(args: Args) -> Result<bool> {
    debug_assert!(matches!(args.backend, Backend::Cpu | Backend::Auto));
    match args.command.as_str() {
        "embed" if args.aligned => {
            let embedder = Embedder::new(load_graph(&args.models, "MobileFaceNet.tflite")?)?;
            Ok(for_each_file(&args.files, |f| {
                let crop = align::fit(&frame::load(f)?, align::CROP);
                let e = embedder.embed(std::slice::from_ref(&crop))?.remove(0);
                Ok(json!({ "image": f.display().to_string(), "embedding": e }))
            }))
        }
        "embed" => Err(Error::Input("embed without --aligned needs face detection, which is not built yet".into())),
        other => Err(Error::Input(format!("unknown command '{other}'\n\n{USAGE}"))),
    }
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)).and_then(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("localface: {e}");
            ExitCode::from(2)
        }
    }
}
