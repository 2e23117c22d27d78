//! The `localface` command-line tool: one JSON object per input image per line on stdout, errors on stderr.

mod challenge;
mod files;

use localface::backend::{block_on, Backend, Network, Target};
use localface::face::detect::{DetectOptions, Range};
use localface::face::liveness::{Liveness, LIVENESS};
use localface::face::occlusion::Occlusion;
use localface::face::{self, align, embed::Embedder, Face, LandmarkSource, Pipeline};
use localface::face::{FULL_RANGE, MOBILEFACENET, ONET, SHORT_RANGE};
use localface::frame::{self, Rgb};
use localface::gallery::{Gallery, Metric};
use localface::gpu::Fusion;
use localface::model::Graph;
use localface::{Context, Error, ErrorKind, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: localface <command> [options] ...

commands (IMAGE...: image files or folders, whose images, in subfolders too, are taken in path order):
  detect IMAGE...                        faces: box, score, landmarks
  embed IMAGE...                         faces: box, score, embedding (192-d; 512-d with fr_feature)
  embed --aligned CROP...                embeddings of 112x112 crops that are already aligned
  enroll --gallery FILE NAME IMAGE...    add NAME's face (one per image) to the gallery (created if absent);
                                         a shot too small, blurred, turned away or badly lit is refused
  identify --gallery FILE IMAGE...       name (or null) and similarity of each face
  verify IMAGE_A IMAGE_B                 whether the main faces of two images are the same person
  occlude mask|sunglasses IMAGE OUT      the image with a surgical mask or dark glasses drawn over each face,
                                         from its landmarks (to try recognition of occluded faces)
  liveness IMAGE...                      faces: box, score (probability of a live person, not a photo or a
                                         screen) and live (score >= 0.5), from fr_liveness.onnx
  challenge FRAME...                     an active liveness challenge over video frames (images in order, at
                                         --fps): blink, turn left, turn right in random order (--seed), from
                                         fr_landmark, fr_eye and fr_pose (.onnx); one line per frame, then the outcome
  profile MODEL.tflite|MODEL.onnx       where one inference spends its time: JSON, per op (cpu) or per
                                         dispatch (gpu, with timestamp queries where the adapter has them)

options:
  --models DIR                 folder of the .tflite models (default: models, or $LOCALFACE_MODELS)
  --embedder PATH              the embedding model (default: MobileFaceNet.tflite of the models folder; also
                               fr_feature.onnx, with its own threshold); a gallery keeps its embedder's name
  --backend cpu|gpu|auto       where the networks run (default auto: a hardware GPU if there is one, else the CPU)
  --detector short|full        BlazeFace short range (default; faces within 2 m) or full range (group photos)
  --landmarks onet|blazeface   align with O-Net's 5 points (default) or BlazeFace's 4 keypoints
  --no-tiles                   look at the whole image only (faster; misses small faces in large photos)
  --metric cosine|euclidean    how embeddings compare (default: cosine)
  --threshold T                similarity (cosine) or distance (euclidean) that decides a match
  --top K                      identify: also list the K best candidates per face
  --any-shot                   enroll: take every shot, however poor its quality
  --threads N                  images worked on at once (default: one per core); results keep the input order
  --batch N                    profile: inputs of batch N (default 1)
  --runs R                     profile: the median of R runs (default 20)
  --fps F                      challenge: frames per second of the frames given (default 10)
  --seed N                     challenge: the seed of the steps' order (default: from the clock)
  --fusion none|add|all        profile: which ops the GPU joins into one dispatch (default add: residual
                               ADDs into the 1x1 convolution before them; all: 3x3 depthwise ones too)

environment:
  LOCALFACE_PASSPHRASE         encrypt the gallery file with this passphrase (AES-256-GCM, PBKDF2); needed to read it
";

struct Args {
    command: String,
    models: PathBuf,
    /// The models folder came from `--models`: the user's own models, not checked against the defaults.
    own_models: bool,
    backend: Backend,
    range: Range,
    landmarks: LandmarkSource,
    tiles: bool,
    metric: Metric,
    threshold: Option<f32>,
    top: usize,
    gallery: Option<PathBuf>,
    aligned: bool,
    any_shot: bool,
    threads: Option<usize>,
    batch: usize,
    runs: usize,
    fusion: Fusion,
    fps: f64,
    seed: Option<u64>,
    embedder: Option<PathBuf>,
    positional: Vec<String>,
}

fn usage(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Option, format!("{message}\n\n{USAGE}"))
}

/// A flag's value, parsed by its type's own rule (the web API parses the same words with the same rule).
fn parsed<T: std::str::FromStr<Err = Error>>(value: String) -> Result<T> {
    value.parse().map_err(|e: Error| usage(e.message()))
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args> {
    let command = it.next().ok_or_else(|| usage("no command"))?;
    let mut args = Args {
        command,
        models: std::env::var_os("LOCALFACE_MODELS").map_or_else(|| PathBuf::from("models"), PathBuf::from),
        own_models: false,
        backend: Backend::Auto,
        range: Range::Short,
        landmarks: LandmarkSource::Onet,
        tiles: true,
        metric: Metric::Cosine,
        threshold: None,
        top: 0,
        gallery: None,
        aligned: false,
        any_shot: false,
        threads: None,
        batch: 1,
        runs: 20,
        fusion: Fusion::default(),
        fps: 10.0,
        seed: None,
        embedder: None,
        positional: vec![],
    };
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| {
        it.next().ok_or_else(|| usage(format!("{flag} needs a value")))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--models" => {
                args.models = value(&mut it, &a)?.into();
                args.own_models = true;
            }
            "--gallery" => args.gallery = Some(value(&mut it, &a)?.into()),
            "--embedder" => args.embedder = Some(value(&mut it, &a)?.into()),
            "--backend" => args.backend = parsed(value(&mut it, &a)?)?,
            "--detector" => args.range = parsed(value(&mut it, &a)?)?,
            "--landmarks" => args.landmarks = parsed(value(&mut it, &a)?)?,
            "--metric" => args.metric = parsed(value(&mut it, &a)?)?,
            "--fusion" => args.fusion = parsed(value(&mut it, &a)?)?,
            "--threshold" => {
                let v = value(&mut it, &a)?;
                args.threshold = Some(
                    v.parse().ok().filter(|t: &f32| t.is_finite()).ok_or_else(|| usage(format!("--threshold {v}")))?,
                );
            }
            "--fps" => {
                let v = value(&mut it, &a)?;
                let fps = v.parse().ok().filter(|f: &f64| (0.1..=1000.0).contains(f));
                args.fps = fps.ok_or_else(|| usage(format!("--fps {v}: from 0.1 to 1000")))?;
            }
            "--seed" => {
                let v = value(&mut it, &a)?;
                args.seed = Some(v.parse().map_err(|_| usage(format!("--seed {v}: a whole number")))?);
            }
            "--top" => {
                let v = value(&mut it, &a)?;
                args.top = v.parse().map_err(|_| usage(format!("--top {v}")))?;
            }
            "--batch" | "--runs" | "--threads" => {
                let v = value(&mut it, &a)?;
                let n = v.parse().ok().filter(|&n: &usize| (1..=1024).contains(&n));
                let n = n.ok_or_else(|| usage(format!("{a} {v}: a whole number from 1 to 1024")))?;
                match a.as_str() {
                    "--batch" => args.batch = n,
                    "--runs" => args.runs = n,
                    _ => args.threads = Some(n),
                }
            }
            "--no-tiles" => args.tiles = false,
            "--aligned" => args.aligned = true,
            "--any-shot" => args.any_shot = true,
            "-h" | "--help" => return Err(usage("")),
            s if s.starts_with("--") => return Err(usage(format!("unknown option {s}"))),
            _ => args.positional.push(a),
        }
    }
    Ok(args)
}

/// A model file of the models folder; checked against the default models' sha256 unless the folder is the
/// user's own (`--models`).
fn read_model(args: &Args, file: &str) -> Result<Vec<u8>> {
    let path = args.models.join(file);
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::io(format!("{}: {e} (run scripts/fetch-models.sh?)", path.display())))?;
    if !args.own_models {
        localface::model::known::check_default(file, &bytes).context(args.models.display())?;
    }
    Ok(bytes)
}

/// Loads the pipeline; O-Net is optional (without it, faces are aligned with BlazeFace's keypoints).
fn load_pipeline(args: &Args, target: &Target) -> Result<Pipeline> {
    let detector = read_model(args, if args.range == Range::Full { FULL_RANGE } else { SHORT_RANGE })?;
    let onet = match read_model(args, ONET) {
        Err(e) if e.kind() == ErrorKind::Io => None,
        other => Some(other?),
    };
    block_on(Pipeline::new(&detector, args.range, onet.as_deref(), &embedder_bytes(args)?, target))
}

/// The embedder's file: `--embedder PATH` (which embedder it is, its checksum says), else MobileFaceNet of
/// the models folder.
fn embedder_bytes(args: &Args) -> Result<Vec<u8>> {
    match &args.embedder {
        Some(path) => std::fs::read(path).map_err(|e| Error::io(format!("{}: {e}", path.display()))),
        None => read_model(args, MOBILEFACENET),
    }
}

/// The threshold: `--threshold`, else the embedder's own under the metric.
fn threshold(args: &Args, p: &Pipeline) -> f32 {
    args.threshold.unwrap_or(args.metric.threshold_of(p.embedder.spec.cosine_threshold))
}

/// The gallery file, refused when another embedder made it.
fn load_gallery(path: &Path, p: &Pipeline) -> Result<Gallery> {
    let gallery = Gallery::load(path, passphrase().as_deref())?;
    gallery.check_embedder(&p.embedder.name, p.embedder.dim).map_err(|e| e.context(path.display()))?;
    Ok(gallery)
}

/// Says once, on stderr, that the GPU failed and the work went on on the CPU.
fn report_fallback(reason: Option<String>, target: &Target) {
    if let (Target::Gpu(gpu), Some(reason)) = (target, reason) {
        eprintln!("localface: the GPU ({}) failed: {reason}; the work went on on the CPU", gpu.name);
    }
}

fn detect_options(p: &Pipeline, args: &Args) -> DetectOptions {
    DetectOptions { tiles: args.tiles, ..p.detector.default_options() }
}

fn rounded(v: f32, digits: i32) -> f64 {
    let s = 10f64.powi(digits);
    (v as f64 * s).round() / s
}

fn face_box(f: &Face) -> Value {
    json!(f.detection.bbox.map(|v| rounded(v, 1)))
}

/// Runs `work` on every image of `inputs` (files, or folders of them) on `--threads` threads, and `done` on
/// each result in input order, printing the JSON line it gives; a failing image is reported and the others go
/// on. Whether all succeeded.
fn for_each_image<T: Send>(
    args: &Args,
    inputs: &[String],
    work: impl Fn(&Path) -> Result<T> + Sync,
    mut done: impl FnMut(&Path, T) -> Result<Value>,
) -> Result<bool> {
    let files = files::expand(inputs)?;
    if files.is_empty() {
        return Err(usage(format!("{}: no image in {}", args.command, inputs.join(" "))));
    }
    let mut ok = true;
    files::each_in_order(&files, files::threads(args.threads), work, |f, result| {
        match result.and_then(|r| done(f, r)) {
            Ok(v) => println!("{v}"),
            Err(e) => {
                eprintln!("localface: {}: {e}", f.display());
                ok = false;
            }
        }
    });
    Ok(ok)
}

/// `for_each_image` whose work gives the line itself.
fn for_each_file(args: &Args, inputs: &[String], work: impl Fn(&Path) -> Result<Value> + Sync) -> Result<bool> {
    for_each_image(args, inputs, work, |_, v| Ok(v))
}

fn need_files(args: &Args, at_least: usize) -> Result<()> {
    if args.positional.len() < at_least {
        return Err(usage(format!("{}: missing arguments", args.command)));
    }
    Ok(())
}

/// The gallery's passphrase, from the environment (a command-line argument would show in `ps`).
fn passphrase() -> Option<String> {
    std::env::var("LOCALFACE_PASSPHRASE").ok().filter(|p| !p.is_empty())
}

fn gallery_path(args: &Args) -> Result<&Path> {
    args.gallery.as_deref().ok_or_else(|| usage(format!("{} needs --gallery FILE", args.command)))
}

/// The largest face of an image: the one a photo of a person is about.
fn main_face(faces: Vec<Face>, path: &Path) -> Result<Face> {
    face::largest(faces).ok_or_else(|| Error::new(ErrorKind::NoFace, format!("no face found in {}", path.display())))
}

fn run(args: Args) -> Result<bool> {
    if args.command == "profile" {
        let (path, graph) = profiled_graph(&args)?;
        let target = resolve(&args, || Ok(graph.clone()))?;
        return profile(&args, &target, &path, graph);
    }
    let target = resolve(&args, || Graph::from_model_file(&embedder_bytes(&args)?))?;
    match args.command.as_str() {
        "embed" if args.aligned => embed_aligned(&args, &target),
        "detect" | "embed" => detect_or_embed(&args, &target),
        "enroll" => enroll(&args, &target),
        "identify" => identify(&args, &target),
        "verify" => verify(&args, &target),
        "occlude" => occlude(&args, &target),
        "liveness" => liveness(&args, &target),
        "challenge" => challenge::challenge(&args, &target),
        other => Err(usage(format!("unknown command '{other}'"))),
    }
}

/// The target of `--backend`: `auto` times the embedder on the GPU and the CPU, and says what it found.
fn resolve(args: &Args, embedder: impl FnOnce() -> Result<Graph>) -> Result<Target> {
    let (target, choice) = block_on(Target::resolve(args.backend, embedder))?;
    if let Some(c) = choice.filter(|c| c.measured()) {
        eprintln!("localface: backend auto: {}", c.reason);
    }
    Ok(target)
}

/// `embed --aligned CROP...`: embeddings of crops already aligned to the template.
fn embed_aligned(args: &Args, target: &Target) -> Result<bool> {
    need_files(args, 1)?;
    let bytes = embedder_bytes(args)?;
    let embedder = Embedder::new(block_on(Network::load(Graph::from_model_file(&bytes)?, target)), &bytes)?;
    let ok = for_each_file(args, &args.positional, |f| {
        let crop = align::fit(&frame::load(f)?, align::CROP);
        let e = block_on(embedder.embed(std::slice::from_ref(&crop)))?.remove(0);
        Ok(json!({ "image": f.display().to_string(), "embedding": e }))
    })?;
    report_fallback(embedder.net.fallback(), target);
    Ok(ok)
}

/// `detect IMAGE...` (boxes, scores, landmarks) and `embed IMAGE...` (boxes, scores, embeddings).
fn detect_or_embed(args: &Args, target: &Target) -> Result<bool> {
    need_files(args, 1)?;
    let p = load_pipeline(args, target)?;
    let opts = detect_options(&p, args);
    let embed = args.command == "embed";
    let ok = for_each_file(args, &args.positional, |f| {
        let frame = frame::load(f)?;
        let faces = block_on(p.faces(&frame, &opts, args.landmarks))?;
        let list: Vec<Value> = faces
            .iter()
            .map(|face| {
                let mut o = json!({ "box": face_box(face), "score": rounded(face.detection.score, 4) });
                if embed {
                    o["embedding"] = json!(face.embedding);
                } else {
                    let points: Vec<[f64; 2]> =
                        face.landmarks.points().iter().map(|p| [rounded(p[0], 1), rounded(p[1], 1)]).collect();
                    o["landmarks"] = json!(points);
                }
                o
            })
            .collect();
        let mut out = json!({ "image": f.display().to_string() });
        if !embed {
            out["width"] = json!(frame.width);
            out["height"] = json!(frame.height);
        }
        out["faces"] = json!(list);
        Ok(out)
    })?;
    report_fallback(p.fallback(), target);
    Ok(ok)
}

/// `enroll --gallery FILE NAME IMAGE...`: one face per image, added to NAME, the file saved once.
fn enroll(args: &Args, target: &Target) -> Result<bool> {
    need_files(args, 2)?;
    let path = gallery_path(args)?;
    let p = load_pipeline(args, target)?;
    let opts = detect_options(&p, args);
    let mut gallery = match path.exists() {
        true => load_gallery(path, &p)?,
        false => Gallery::new(p.embedder.dim, &p.embedder.name),
    };
    let name = args.positional[0].clone();
    // The faces and their templates in parallel; the gallery takes them in input order.
    let shot = |f: &Path| -> Result<(Face, Vec<_>)> {
        let image = frame::load(f)?;
        let faces = block_on(p.faces(&image, &opts, args.landmarks))?;
        if faces.len() > 1 {
            let message = format!("{} faces: enroll needs a photo of one person", faces.len());
            return Err(Error::new(ErrorKind::ManyFaces, message));
        }
        let face = main_face(faces, f)?;
        if !args.any_shot {
            face.quality.check()?;
        }
        let templates = block_on(p.templates(&image, &face))?;
        Ok((face, templates))
    };
    let ok = for_each_image(args, &args.positional[1..], shot, |f, (face, templates)| {
        gallery.enrol(&name, &templates)?;
        Ok(json!({ "image": f.display().to_string(), "name": name, "box": face_box(&face) }))
    })?;
    if gallery.count(&name) > 0 {
        gallery.save(path, passphrase().as_deref())?;
    }
    report_fallback(p.fallback(), target);
    Ok(ok)
}

/// `occlude mask|sunglasses IMAGE OUT`: the image with the occlusion drawn over every face found.
fn occlude(args: &Args, target: &Target) -> Result<bool> {
    if args.positional.len() != 3 {
        return Err(usage("occlude: give mask or sunglasses, an image and the file to write"));
    }
    let occlusion: Occlusion = args.positional[0].parse()?;
    let (input, output) = (Path::new(&args.positional[1]), Path::new(&args.positional[2]));
    let p = load_pipeline(args, target)?;
    let mut image = frame::load(input).context(input.display())?;
    let (_, landmarks) = block_on(p.detect(&image, &detect_options(&p, args), args.landmarks))?;
    if landmarks.is_empty() {
        return Err(Error::new(ErrorKind::NoFace, format!("no face found in {}", input.display())));
    }
    for l in &landmarks {
        image = occlusion.on_frame(&image, face::alignment(l)?);
    }
    frame::save(&image, output)?;
    println!(
        "{}",
        json!({ "image": input.display().to_string(), "faces": landmarks.len(), "out": output.display().to_string() })
    );
    Ok(true)
}

/// `liveness IMAGE...`: each face's box, the probability that it is a live person, and the decision.
fn liveness(args: &Args, target: &Target) -> Result<bool> {
    need_files(args, 1)?;
    let p = load_pipeline(args, target)?;
    let model = block_on(Liveness::new(&read_model(args, LIVENESS)?, target))?;
    let opts = detect_options(&p, args);
    let ok = for_each_file(args, &args.positional, |f| {
        let frame = frame::load(f)?;
        let (detections, _) = block_on(p.detect(&frame, &opts, args.landmarks))?;
        let faces: Vec<Value> = block_on(model.judge(&frame, &detections))?
            .iter()
            .map(|v| json!({ "box": v.bbox.map(|c| rounded(c, 1)), "score": rounded(v.score, 4), "live": v.live }))
            .collect();
        Ok(json!({ "image": f.display().to_string(), "faces": faces }))
    })?;
    report_fallback(model.net.fallback(), target);
    Ok(ok)
}

/// `identify --gallery FILE IMAGE...`: each face's name (or null) and score, with `--top K` candidates.
fn identify(args: &Args, target: &Target) -> Result<bool> {
    need_files(args, 1)?;
    let p = load_pipeline(args, target)?;
    let gallery = load_gallery(gallery_path(args)?, &p)?;
    let opts = detect_options(&p, args);
    let threshold = threshold(args, &p);
    let key = score_key(args.metric);
    let ok = for_each_file(args, &args.positional, |f| {
        let faces = block_on(p.faces(&frame::load(f)?, &opts, args.landmarks))?;
        let list: Vec<Value> = faces
            .iter()
            .map(|face| {
                let who = gallery.identify(&face.embedding, args.metric, threshold, args.top);
                let mut o = json!({ "box": face_box(face), "name": who.name, key: who.score().map(|s| rounded(s, 4)) });
                if args.top > 0 {
                    let candidates = who.candidates.iter().map(|m| json!({ "name": m.name, key: rounded(m.score, 4) }));
                    o["candidates"] = json!(candidates.collect::<Vec<_>>());
                }
                o
            })
            .collect();
        Ok(json!({ "image": f.display().to_string(), "faces": list }))
    })?;
    report_fallback(p.fallback(), target);
    Ok(ok)
}

/// `verify IMAGE_A IMAGE_B`: whether the largest faces of two images are the same person.
fn verify(args: &Args, target: &Target) -> Result<bool> {
    if args.positional.len() != 2 {
        return Err(usage("verify takes two images"));
    }
    let p = load_pipeline(args, target)?;
    let opts = detect_options(&p, args);
    let embed = |f: &str| -> Result<Face> {
        let path = Path::new(f);
        let frame: Rgb = frame::load(path).context(f)?;
        main_face(block_on(p.faces(&frame, &opts, args.landmarks))?, path)
    };
    let (a, b) = (embed(&args.positional[0])?, embed(&args.positional[1])?);
    report_fallback(p.fallback(), target);
    let threshold = threshold(args, &p);
    let score = args.metric.score(&a.embedding, &b.embedding);
    let same = args.metric.accepts(score, threshold);
    println!(
        "{}",
        json!({ score_key(args.metric): rounded(score, 4), "same": same, "threshold": rounded(threshold, 4) })
    );
    Ok(true)
}

/// The model `profile` is given: a path, or a file in the models folder.
fn profiled_graph(args: &Args) -> Result<(PathBuf, Graph)> {
    need_files(args, 1)?;
    let given = PathBuf::from(&args.positional[0]);
    let path = if given.exists() { given } else { args.models.join(&args.positional[0]) };
    let bytes = std::fs::read(&path).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
    let graph = Graph::from_model_file(&bytes).context(path.display().to_string())?;
    Ok((path, graph))
}

/// `profile MODEL.tflite|MODEL.onnx`: the JSON report of `localface::profile`.
fn profile(args: &Args, target: &Target, path: &Path, graph: Graph) -> Result<bool> {
    let net = block_on(Network::load_with(graph, target, args.fusion));
    let mut report = block_on(localface::profile::report(&net, args.batch, args.runs))?;
    report["model"] = json!(path.display().to_string());
    report["fusion"] = json!(format!("{:?}", args.fusion).to_lowercase());
    if let Some(reason) = net.fallback() {
        report["fallback_reason"] = json!(reason);
    }
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::io(e.to_string()))?);
    Ok(true)
}

/// Cosine scores are similarities; Euclidean ones distances.
fn score_key(metric: Metric) -> &'static str {
    if metric == Metric::Cosine {
        "similarity"
    } else {
        "distance"
    }
}

pub fn main() -> ExitCode {
    // A decoder that panics on a bad file gives that file's error (see `frame::decode`); only other
    // panics, which are bugs, print the usual message.
    frame::quiet_decoder_panics();
    match parse_args(std::env::args().skip(1)).and_then(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("localface: {e}");
            ExitCode::from(2)
        }
    }
}
