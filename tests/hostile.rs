//! Hostile and broken model files: every one gives an error (or, for a harmless bit flip, a model that
//! runs); none panics, and none makes the reader allocate far more than the file's size.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/rng.rs"]
mod rng;

use common::tflite_writer::*;
use common::*;
use localface::backend::{Network, Target};
use localface::model::tflite::opcode::*;
use localface::model::{shape, Graph, Tensor, MAX_ELEMENTS, MAX_STEPS};
use rng::Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Records the largest single allocation made by the current thread.
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|m| m.set(m.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.with(|m| m.set(m.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Loads a model, asserting that no single allocation exceeds twice the file plus 1 MiB.
fn load(bytes: &[u8]) -> localface::Result<Graph> {
    LARGEST.with(|m| m.set(0));
    let result = Graph::from_tflite(bytes);
    let largest = LARGEST.with(|m| m.get());
    assert!(
        largest <= 2 * bytes.len() + (1 << 20),
        "loading a {}-byte file allocated {largest} bytes at once",
        bytes.len()
    );
    result
}

fn load_err(bytes: &[u8]) -> String {
    match load(bytes) {
        Ok(_) => panic!("a broken model loaded"),
        Err(e) => e.to_string(),
    }
}

/// A one-op model: x [1,4,4,2] -> 1x1 CONV_2D with 3 output channels -> y [1,4,4,3].
fn conv_model(conv_options: Vec<(usize, F)>, filter_shape: &[i32], filter: &[f32]) -> Vec<u8> {
    conv_model_with_bias(conv_options, filter_shape, filter, &[0.5, 0.0, -0.5])
}

/// `conv_model` with the bias given (its shape is its length).
fn conv_model_with_bias(conv_options: Vec<(usize, F)>, filter_shape: &[i32], filter: &[f32], bias: &[f32]) -> Vec<u8> {
    model(
        &[CONV_2D],
        vec![
            tensor(&[1, 4, 4, 2], 0, 0, "x"),
            tensor(filter_shape, 0, 1, "w"),
            tensor(&[bias.len() as i32], 0, 2, "b"),
            tensor(&[1, 4, 4, 3], 0, 0, "y"),
        ],
        &[0],
        &[3],
        vec![operator(0, &[0, 1, 2], &[3], Some((1, conv_options)))],
        vec![F::Bytes(f32_bytes(filter)), F::Bytes(f32_bytes(bias))],
    )
}

fn unit_conv_options() -> Vec<(usize, F)> {
    vec![(0, F::U8(0)), (1, F::I32(1)), (2, F::I32(1))]
}

#[test]
fn the_hand_built_model_runs() {
    // Sanity for the writer: filter rows (1,0), (0,1), (1,1) and bias (0.5, 0, -0.5).
    let bytes = conv_model(unit_conv_options(), &[3, 1, 1, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let graph = load(&bytes).unwrap();
    let x: Vec<f32> = (0..32).map(|v| v as f32).collect();
    let y = localface::cpu::run(&graph, &[Tensor::new(vec![1, 4, 4, 2], x).unwrap()]).unwrap();
    assert_eq!(&y[0].data[..6], &[0.5, 1.0, 0.5, 2.5, 3.0, 4.5]);
}

#[test]
fn wrong_magic_and_random_bytes_are_refused() {
    let mut bytes = conv_model(unit_conv_options(), &[3, 1, 1, 2], &[1.0; 6]);
    bytes[4..8].copy_from_slice(b"ONNX");
    assert!(load_err(&bytes).contains("TFL3"));
    let mut rng = Rng(0x1234_5678);
    for len in [0, 1, 7, 8, 9, 64, 1000, 100_000] {
        for with_magic in [false, true] {
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if with_magic && len >= 8 {
                b[4..8].copy_from_slice(b"TFL3");
            }
            assert!(load(&b).is_err(), "random {len} bytes loaded");
        }
    }
}

#[test]
fn truncated_models_are_refused() {
    for file in ["face_detection_short_range.tflite", "onet.tflite", "MobileFaceNet.tflite"] {
        let bytes = model_bytes(file);
        let step = (bytes.len() / 1500).max(1);
        let lengths = (0..200).chain((200..bytes.len()).step_by(step));
        for len in lengths {
            if let Ok(g) = load(&bytes[..len]) {
                panic!("{file} cut to {len} of {} bytes loaded with {} nodes", bytes.len(), g.nodes.len());
            }
        }
    }
}

#[test]
fn bit_flipped_models_error_or_run() {
    // 500 copies of a real model with 1 to 4 bits flipped: each is refused, or loads and runs (`load` and
    // `run_zeros` hold every file to their checks: no panic, no huge allocation, the reference and the CPU
    // backend agree on whether it runs).
    let bytes = model_bytes("face_detection_short_range.tflite");
    let mut rng = Rng(42);
    let (mut loaded, mut ran) = (0, 0);
    for _ in 0..500 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.next() % 4 {
            // Flip bits in the structure (the first and last 16 KiB hold tables and vtables), not only weights.
            let region = if rng.next().is_multiple_of(2) { 0..16384 } else { b.len() - 16384..b.len() };
            let at = region.start + (rng.next() as usize) % region.len();
            b[at] ^= 1 << (rng.next() % 8);
        }
        if let Ok(g) = load(&b) {
            loaded += 1;
            if let Ok((reference, fast)) = run_zeros(&g) {
                ran += 1;
                // The CPU backend's answer is the reference's, as tests/kernels.rs holds each kernel to it
                // (a flipped weight may make an infinity or a NaN: both give the same one).
                assert_eq!(reference.len(), fast.len());
                for (r, f) in reference.iter().zip(&fast) {
                    assert_eq!(r.shape, f.shape, "a bit-flipped model's output shape");
                    let scale = r.data.iter().filter(|v| v.is_finite()).fold(1.0f32, |m, v| m.max(v.abs()));
                    for (i, (a, b)) in r.data.iter().zip(&f.data).enumerate() {
                        let same = a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-5 * scale;
                        assert!(same, "a bit-flipped model's output {i}: reference {a}, CPU backend {b}");
                    }
                }
            }
        }
    }
    println!("bit flips: 500 files, {} refused, {loaded} loaded, {ran} ran", 500 - loaded);
    // Both outcomes are common (about half each today: 242 refused, 258 loaded); a reader that refused
    // everything, or no longer checked the structure, fails here.
    assert!(500 - loaded >= 100, "only {} of 500 bit-flipped files were refused", 500 - loaded);
    assert!(loaded >= 100, "only {loaded} of 500 bit-flipped files loaded");
    // Loading infers every shape at batch 1 and bounds the cost: a model that loads runs at batch 1.
    assert_eq!(ran, loaded, "bit-flipped models that loaded but did not run");
}

#[test]
fn every_model_in_the_fuzz_corpus_loads_or_is_refused() {
    // The tflite_reader fuzzer's minimised corpus, replayed: each file is refused or loads (without a
    // huge allocation: `load`); one that loads with a small input runs or fails alike on the reference and
    // on the CPU backend (`run_zeros`).
    let (mut refused, mut loaded, mut ran) = (0, 0, 0);
    for entry in std::fs::read_dir(root().join("fuzz/corpus/tflite_reader")).unwrap() {
        let Ok(graph) = load(&std::fs::read(entry.unwrap().path()).unwrap()) else {
            refused += 1;
            continue;
        };
        loaded += 1;
        // As the fuzz target: cheap models only, so the replay stays quick.
        if shape::cost_per_image(&graph).unwrap().steps <= 1 << 24 {
            ran += usize::from(run_zeros(&graph).is_ok());
        }
    }
    assert!(refused > 0 && ran > 0, "{refused} refused, {ran} ran: is the corpus there?");
    println!("model corpus: {refused} files refused, {loaded} loaded, {ran} of them ran");
}

#[test]
fn lying_sizes_are_refused() {
    // A vector that claims 2^31 bytes.
    let bytes = model(
        &[CONV_2D],
        vec![
            tensor(&[1, 4, 4, 2], 0, 0, "x"),
            tensor(&[3, 1, 1, 2], 0, 1, "w"),
            tensor(&[3], 0, 0, "b"),
            tensor(&[1, 4, 4, 3], 0, 0, "y"),
        ],
        &[0],
        &[3],
        vec![operator(0, &[0, 1, 2], &[3], Some((1, unit_conv_options())))],
        vec![F::LyingBytes { claimed: 0x8000_0000, bytes: f32_bytes(&[1.0; 6]) }],
    );
    assert!(load_err(&bytes).contains("claims"));
    // A constant claiming 10^12 elements.
    let e = load_err(&conv_model(unit_conv_options(), &[1_000_000, 1_000_000, 1, 1], &[1.0; 6]));
    assert!(e.contains("larger than"), "{e}");
    // A constant whose buffer is smaller than its shape.
    let e = load_err(&conv_model(unit_conv_options(), &[3, 1, 1, 4], &[1.0; 6]));
    assert!(e.contains("needs 48 bytes"), "{e}");
}

#[test]
fn indices_out_of_range_are_refused() {
    let t = || {
        vec![
            tensor(&[1, 4, 4, 2], 0, 0, "x"),
            tensor(&[3, 1, 1, 2], 0, 1, "w"),
            tensor(&[3], 0, 0, "b"),
            tensor(&[1, 4, 4, 3], 0, 0, "y"),
        ]
    };
    let w = || vec![F::Bytes(f32_bytes(&[1.0; 6]))];
    let conv = |ins: &[i32], outs: &[i32], code: u32| vec![operator(code, ins, outs, Some((1, unit_conv_options())))];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (model(&[CONV_2D], t(), &[0], &[3], conv(&[0, 1, 2], &[3], 5), w()), "opcode 5"),
        (model(&[CONV_2D], t(), &[0], &[3], conv(&[0, 1, 200], &[3], 0), w()), "tensor 200"),
        (model(&[CONV_2D], t(), &[0], &[3], conv(&[0, 1, 2], &[-7], 0), w()), "tensor -7"),
        (model(&[CONV_2D], t(), &[0], &[9], conv(&[0, 1, 2], &[3], 0), w()), "tensor 9"),
        (
            model(
                &[CONV_2D],
                vec![
                    tensor(&[1, 4, 4, 2], 0, 0, "x"),
                    tensor(&[3, 1, 1, 2], 0, 77, "w"),
                    tensor(&[3], 0, 0, "b"),
                    tensor(&[1, 4, 4, 3], 0, 0, "y"),
                ],
                &[0],
                &[3],
                conv(&[0, 1, 2], &[3], 0),
                w(),
            ),
            "buffer 77",
        ),
        // An op that reads its own output: a cycle.
        (model(&[CONV_2D], t(), &[0], &[3], conv(&[3, 1, 2], &[3], 0), w()), "before anything writes it"),
    ];
    for (bytes, expected) in cases {
        let e = load_err(&bytes);
        assert!(e.contains(expected), "expected '{expected}' in: {e}");
    }
}

#[test]
fn options_out_of_range_are_refused() {
    let filter = [1.0; 6];
    let cases: Vec<(Vec<(usize, F)>, &str)> = vec![
        (vec![(0, F::U8(0)), (1, F::I32(0)), (2, F::I32(1))], "stride"),
        (vec![(0, F::U8(0)), (1, F::I32(1)), (2, F::I32(1_000_000))], "stride"),
        (vec![(0, F::U8(9)), (1, F::I32(1)), (2, F::I32(1))], "padding type 9"),
        (vec![(0, F::U8(0)), (1, F::I32(1)), (2, F::I32(1)), (3, F::U8(4))], "TANH"),
        (vec![(0, F::U8(0)), (1, F::I32(1)), (2, F::I32(1)), (4, F::I32(-3))], "dilation -3"),
    ];
    for (options, expected) in cases {
        let e = load_err(&conv_model(options, &[3, 1, 1, 2], &filter));
        assert!(e.contains(expected), "expected '{expected}' in: {e}");
    }
}

#[test]
fn a_bias_must_have_one_value_per_output_channel() {
    // A 1-value bias on 3 (CONV_2D) or 2 (FULLY_CONNECTED) outputs: every kernel indexes the bias by channel, so
    // this was a panic in the CPU kernels before the load check refused it (found by fuzzing).
    let conv = conv_model_with_bias(unit_conv_options(), &[3, 1, 1, 2], &[1.0; 6], &[0.5]);
    let fully_connected = model(
        &[FULLY_CONNECTED],
        vec![
            tensor(&[1, 2], 0, 0, "x"),
            tensor(&[2, 2], 0, 1, "w"),
            tensor(&[1], 0, 2, "b"),
            tensor(&[1, 2], 0, 0, "y"),
        ],
        &[0],
        &[3],
        vec![operator(0, &[0, 1, 2], &[3], None)],
        vec![F::Bytes(f32_bytes(&[1.0; 4])), F::Bytes(f32_bytes(&[0.5]))],
    );
    for (bytes, op, channels) in [(conv, "CONV_2D", 3), (fully_connected, "FULLY_CONNECTED", 2)] {
        let e = load_err(&bytes);
        assert!(e.contains(op) && e.contains(&format!("'b' must be a constant of {channels} values")), "{e}");
    }
}

#[test]
fn unsupported_ops_and_types_are_named() {
    // TANH as an op.
    let bytes = model(
        &[TANH],
        vec![tensor(&[1, 4], 0, 0, "x"), tensor(&[1, 4], 0, 0, "y")],
        &[0],
        &[1],
        vec![operator(0, &[0], &[1], None)],
        vec![],
    );
    assert!(load_err(&bytes).contains("TANH"));
    // An int8 input.
    let bytes = model(
        &[RELU],
        vec![tensor(&[1, 4], 9, 0, "x"), tensor(&[1, 4], 0, 0, "y")],
        &[0],
        &[1],
        vec![operator(0, &[0], &[1], None)],
        vec![],
    );
    assert!(load_err(&bytes).contains("INT8"));
    // A real model with ops we do not run.
    let e = load_err(&model_bytes("FaceAntiSpoofing.tflite"));
    assert!(
        e.contains("STRIDED_SLICE") || e.contains("GREATER_EQUAL") || e.contains("CAST") || e.contains("LESS"),
        "{e}"
    );
}

#[test]
fn sizes_read_from_the_file_cannot_ask_for_huge_tensors() {
    // PAD by 2^30 on each side, and RESIZE_BILINEAR to 100000x100000: refused by shape inference at load.
    let pad = model(
        &[PAD],
        vec![tensor(&[1, 4, 4, 2], 0, 0, "x"), tensor(&[4, 2], 2, 1, "p"), tensor(&[1, 4, 4, 2], 0, 0, "y")],
        &[0],
        &[2],
        vec![operator(0, &[0, 1], &[2], None)],
        vec![F::Bytes(i32_bytes(&[0, 0, 1 << 30, 1 << 30, 0, 0, 0, 0]))],
    );
    let resize = model(
        &[RESIZE_BILINEAR],
        vec![tensor(&[1, 4, 4, 2], 0, 0, "x"), tensor(&[2], 2, 1, "size"), tensor(&[1, 4, 4, 2], 0, 0, "y")],
        &[0],
        &[2],
        vec![operator(0, &[0, 1], &[2], None)],
        vec![F::Bytes(i32_bytes(&[100_000, 100_000]))],
    );
    // A convolution without a bias whose filter (no data behind it) claims 2^28 output channels: its zero
    // bias would be 1 GiB, so the reader refuses it before making it (found by replaying the fuzz corpus).
    let no_bias = model(
        &[CONV_2D],
        vec![
            tensor(&[1, 4, 4, 2], 0, 0, "x"),
            tensor(&[1 << 28, 1, 1, 2], 0, 0, "w"),
            tensor(&[1, 4, 4, 3], 0, 0, "y"),
        ],
        &[0],
        &[2],
        vec![operator(0, &[0, 1], &[2], Some((1, unit_conv_options())))],
        vec![],
    );
    let e = load_err(&no_bias);
    assert!(e.contains("more than the file's filters can hold"), "{e}");
    for bytes in [pad, resize] {
        let e = load_err(&bytes);
        assert!(e.contains("larger than"), "{e}");
    }
}

#[test]
fn the_default_models_are_far_under_the_cost_limits() {
    // The limits must never touch a real face model: each of the four is held to a quarter of them.
    for file in
        ["face_detection_short_range.tflite", "face_detection_full_range.tflite", "onet.tflite", "MobileFaceNet.tflite"]
    {
        let cost = shape::cost_per_image(&graph(file)).unwrap();
        println!(
            "cost per image: {file} {} steps ({:.1}% of the limit), {} values ({:.1}%)",
            cost.steps,
            100.0 * cost.steps as f64 / MAX_STEPS as f64,
            cost.values,
            100.0 * cost.values as f64 / MAX_ELEMENTS as f64
        );
        assert!(cost.steps < MAX_STEPS / 4 && cost.values < MAX_ELEMENTS as u64 / 4, "{file}: {cost:?}");
    }
}

#[test]
fn work_and_memory_read_from_the_file_are_bounded() {
    // A MAX_POOL_2D with the largest window the reader takes, 4096x4096 (SAME padding, so it fits any
    // input), over a 32x32x2 input: 2048 outputs of 2^24 taps each, and the reference visits every tap.
    // Unchecked, this small file runs for minutes.
    let pool = |side: i32| {
        model(
            &[MAX_POOL_2D],
            vec![tensor(&[1, side, side, 2], 0, 0, "x"), tensor(&[1, side, side, 2], 0, 0, "y")],
            &[0],
            &[1],
            vec![operator(
                0,
                &[0],
                &[1],
                Some((5, vec![(0, F::U8(0)), (1, F::I32(1)), (2, F::I32(1)), (3, F::I32(4096)), (4, F::I32(4096))])),
            )],
            vec![],
        )
    };
    let e = load_err(&pool(32));
    assert!(e.contains("one image would take 34359744512 steps"), "{e}");
    // Over a 4x4x2 input it is under the limit and loads; the CPU backend's pooling clips the window to the
    // input, and allocates nothing near the window's area (it made room for 2^24 taps, 128 MiB).
    let g = load(&pool(4)).unwrap();
    LARGEST.with(|m| m.set(0));
    Network::new(g, &Target::Cpu).run_cpu(&[Tensor::new(vec![1, 4, 4, 2], vec![1.0; 32]).unwrap()]).unwrap();
    assert!(LARGEST.with(|m| m.get()) < 1 << 16);
    // Many cheap ops: 4x4 RESIZE_BILINEAR to 4096x4096x2 (2^25 elements), then 48 ADDs of it to itself,
    // each 3 x 2^25 steps (two reads, one write): 4.9 x 10^9 steps together (and 1.6 x 10^9 values), over
    // both limits though no op alone comes near them; the steps are named first.
    let adds: i32 = 48;
    let mut tensors = vec![tensor(&[1, 4, 4, 2], 0, 0, "x"), tensor(&[2], 2, 1, "size")];
    let mut operators = vec![operator(0, &[0, 1], &[2], None)];
    for k in 0..=adds {
        tensors.push(tensor(&[1, 4096, 4096, 2], 0, 0, &format!("t{k}")));
        if k > 0 {
            operators.push(operator(1, &[k + 1, k + 1], &[k + 2], None));
        }
    }
    let chain =
        model(&[RESIZE_BILINEAR, ADD], tensors, &[0], &[adds + 2], operators, vec![F::Bytes(i32_bytes(&[4096, 4096]))]);
    let e = load_err(&chain);
    assert!(e.contains("steps, more than the limit of 4294967296"), "{e}");
    // No op at all, and the 2^24-value input listed five times as an output: each output is a copy, 320 MiB
    // of them for a file of a few hundred bytes (found by fuzzing: a 595-byte file that took 8 GB).
    let outputs = model(&[ADD], vec![tensor(&[1, 2048, 2048, 4], 0, 0, "x")], &[0], &[0; 5], vec![], vec![]);
    let e = load_err(&outputs);
    assert!(e.contains("one image would write 100663296 values, more than the limit of 67108864"), "{e}");
}

/// Writes the hand-built models as seeds for the fuzzer: `cargo test --test hostile -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = root().join("fuzz/corpus/tflite_reader");
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = [
        ("conv", conv_model(unit_conv_options(), &[3, 1, 1, 2], &[1.0; 6])),
        (
            "pad",
            model(
                &[PAD],
                vec![tensor(&[1, 4, 4, 2], 0, 0, "x"), tensor(&[4, 2], 2, 1, "p"), tensor(&[1, 5, 6, 2], 0, 0, "y")],
                &[0],
                &[2],
                vec![operator(0, &[0, 1], &[2], None)],
                vec![F::Bytes(i32_bytes(&[0, 0, 1, 0, 1, 1, 0, 0]))],
            ),
        ),
        (
            "resize",
            model(
                &[RESIZE_BILINEAR],
                vec![tensor(&[1, 4, 4, 2], 0, 0, "x"), tensor(&[2], 2, 1, "size"), tensor(&[1, 8, 8, 2], 0, 0, "y")],
                &[0],
                &[2],
                vec![operator(0, &[0, 1], &[2], Some((15, vec![(3, F::U8(1))])))],
                vec![F::Bytes(i32_bytes(&[8, 8]))],
            ),
        ),
        (
            "prelu_chain",
            model(
                &[RELU, ABS, SUB, MUL, ADD],
                vec![
                    tensor(&[1, 2, 2, 3], 0, 0, "x"),
                    tensor(&[3], 0, 1, "alpha"),
                    tensor(&[1, 2, 2, 3], 0, 0, "relu"),
                    tensor(&[1, 2, 2, 3], 0, 0, "abs"),
                    tensor(&[1, 2, 2, 3], 0, 0, "sub"),
                    tensor(&[1, 2, 2, 3], 0, 0, "mul"),
                    tensor(&[1, 2, 2, 3], 0, 0, "y"),
                ],
                &[0],
                &[6],
                vec![
                    operator(0, &[0], &[2], None),
                    operator(1, &[0], &[3], None),
                    operator(2, &[0, 3], &[4], None),
                    operator(3, &[1, 4], &[5], None),
                    operator(4, &[2, 5], &[6], None),
                ],
                vec![F::Bytes(f32_bytes(&[0.1, 0.2, 0.3]))],
            ),
        ),
        (
            "pool_fc_softmax",
            model(
                &[MAX_POOL_2D, FULLY_CONNECTED, REDUCE_MAX, SUB, EXP, SUM, DIV],
                vec![
                    tensor(&[1, 4, 4, 2], 0, 0, "x"),
                    tensor(&[1, 2, 2, 2], 0, 0, "pool"),
                    tensor(&[2, 8], 0, 1, "w"),
                    tensor(&[1, 2], 0, 0, "fc"),
                    tensor(&[1], 2, 2, "axis"),
                    tensor(&[1, 1], 0, 0, "max"),
                    tensor(&[1, 2], 0, 0, "sub"),
                    tensor(&[1, 2], 0, 0, "exp"),
                    tensor(&[1, 1], 0, 0, "sum"),
                    tensor(&[1, 2], 0, 0, "y"),
                ],
                &[0],
                &[9],
                vec![
                    operator(
                        0,
                        &[0],
                        &[1],
                        Some((5, vec![(0, F::U8(1)), (1, F::I32(2)), (2, F::I32(2)), (3, F::I32(2)), (4, F::I32(2))])),
                    ),
                    operator(1, &[1, 2, -1], &[3], None),
                    operator(2, &[3, 4], &[5], Some((27, vec![(0, F::U8(1))]))),
                    operator(3, &[3, 5], &[6], None),
                    operator(4, &[6], &[7], None),
                    operator(5, &[7, 4], &[8], Some((27, vec![(0, F::U8(1))]))),
                    operator(6, &[7, 8], &[9], None),
                ],
                vec![F::Bytes(f32_bytes(&[0.5; 16])), F::Bytes(i32_bytes(&[1]))],
            ),
        ),
    ];
    for (name, bytes) in seeds {
        let graph = load(&bytes).unwrap_or_else(|e| panic!("seed {name}: {e}"));
        run_zeros(&graph).unwrap_or_else(|e| panic!("seed {name}: {e}"));
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}
