//! GPU against CPU, per inference: MobileFaceNet at batch 1, 8, 32 and 128 (with faces per second),
//! BlazeFace short and full range. Median and p90 of 20 runs (7 where a run takes over 100 ms) after
//! a second of warm-up runs (the first run also builds the plan for that batch).
//! `cargo bench --bench gpu` — natively on whatever adapter wgpu finds (lavapipe on CI machines; an NVIDIA
//! GPU through Vulkan where there is one). Prints the device. On the device tool's NVIDIA machine:
//! `scripts/bench-gpu-device.sh prepare` here, then `scripts/bench-gpu-device.sh run` there.

use localface::backend::{block_on, Kernels, Network, Target};
use localface::gpu::Gpu;
use localface::model::{Graph, Tensor};
use std::path::PathBuf;
use std::time::Instant;

fn graph(file: &str) -> Graph {
    let models = std::env::var_os("LOCALFACE_MODELS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"), PathBuf::from);
    let path = models.join(file);
    Graph::from_tflite(&std::fs::read(path).expect("models/: run scripts/fetch-models.sh")).unwrap()
}

fn time(net: &Network, x: &Tensor) -> (f64, f64) {
    let run = || {
        let t = Instant::now();
        block_on(net.run(std::slice::from_ref(x))).unwrap();
        t.elapsed().as_secs_f64() * 1e3
    };
    // Warm-ups: at least two runs and a second, so that an idle GPU has raised its clocks again (an H200
    // idles at a sixth of its clock, and the CPU's runs before leave it idle for seconds: with 300 ms of
    // warm-up, batch 32 took 3.75 and 5.10 ms in two runs of this bench, against 2.38 ms in a profile
    // made after other GPU work).
    let (mut warm, mut spent) = (0, 0.0);
    while warm < 2 || spent < 1000.0 {
        spent += run();
        warm += 1;
    }
    let runs = if spent / warm as f64 > 100.0 { 7 } else { 20 };
    let mut ms: Vec<f64> = (0..runs).map(|_| run()).collect();
    ms.sort_by(f64::total_cmp);
    let median = if runs % 2 == 1 { ms[runs / 2] } else { (ms[runs / 2 - 1] + ms[runs / 2]) / 2.0 };
    (median, ms[(runs * 9).div_ceil(10) - 1])
}

fn main() {
    let gpu = match block_on(Gpu::new()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU: {e}");
            std::process::exit(1);
        }
    };
    println!("GPU: {}; CPU: SIMD kernels ({}), one thread", gpu.name, localface::cpu::simd::arch());
    let cases = [
        ("MobileFaceNet", "MobileFaceNet.tflite", [1usize, 8, 32, 128].as_slice()),
        ("BlazeFace short range", "face_detection_short_range.tflite", [1].as_slice()),
        ("BlazeFace full range", "face_detection_full_range.tflite", [1].as_slice()),
    ];
    for (name, file, batches) in cases {
        let g = graph(file);
        let on_gpu = block_on(Network::load(g.clone(), &Target::Gpu(gpu.clone())));
        assert_eq!(on_gpu.kernels(), Kernels::Gpu, "{name} did not load on the GPU: {:?}", on_gpu.fallback());
        let on_cpu = Network::new(g, &Target::Cpu);
        for &batch in batches {
            // Deterministic values in [-1, 1] (the timing does not depend on them), as `localface profile`.
            let x = localface::profile::inputs(&on_cpu, batch).unwrap().remove(0);
            let (g_med, g_p90) = time(&on_gpu, &x);
            let (c_med, c_p90) = time(&on_cpu, &x);
            assert!(on_gpu.fallback().is_none(), "{name}: the GPU failed: {:?}", on_gpu.fallback());
            let per_second = |ms: f64| batch as f64 * 1e3 / ms;
            println!(
                "{name:<22} batch {batch:>3}: GPU {g_med:8.2} ms (p90 {g_p90:8.2}), {:7.3} ms/item, {:8.0} items/s | CPU {c_med:8.2} ms (p90 {c_p90:8.2}), {:7.3} ms/item, {:6.0} items/s",
                g_med / batch as f64,
                per_second(g_med),
                c_med / batch as f64,
                per_second(c_med)
            );
        }
    }
}
