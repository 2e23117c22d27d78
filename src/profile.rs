//! `localface profile`: where one inference of a model spends its time, as JSON, for users and for us.
//! Per step on the CPU (each op of the CPU plan), per dispatch on the GPU (timestamp queries where the
//! adapter has them), with the CPU side of a GPU run in phases. Every time is the median over the runs.

use crate::backend::{Network, Profile};
use crate::cpu::now_ms;
use crate::error::Result;
use crate::model::Tensor;
use serde_json::{json, Value};

/// Runs before any timing: the first run builds the GPU plan for the batch and warms the caches.
const WARM_UPS: usize = 3;

/// Deterministic values in [-1, 1] for each of the graph's inputs, with the batch set: timings do not
/// depend on the values.
pub fn inputs(net: &Network, batch: usize) -> Result<Vec<Tensor>> {
    let graph = net.graph();
    let mut seed = 7u32;
    let mut value = move || {
        seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        (seed >> 8) as f32 / (1 << 23) as f32 - 1.0
    };
    graph
        .inputs
        .iter()
        .map(|&i| {
            let mut shape = graph.tensors[i].shape.clone();
            if let Some(b) = shape.first_mut() {
                *b = batch;
            }
            let n = shape.iter().product();
            Tensor::new(shape, (0..n).map(|_| value()).collect())
        })
        .collect()
}

/// The median (0 of nothing).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ms(v: f64) -> Value {
    json!((v * 1e4).round() / 1e4)
}

/// The report: the whole inference (plain runs, timed around `Network::run`), then each step or dispatch,
/// the CPU side of a GPU run, and the ten costliest steps.
pub async fn report(net: &Network, batch: usize, runs: usize) -> Result<Value> {
    let x = inputs(net, batch)?;
    for _ in 0..WARM_UPS {
        net.run(&x).await?;
    }
    let mut totals = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = now_ms();
        net.run(&x).await?;
        totals.push(now_ms() - start);
    }
    let mut profiles = Vec::with_capacity(runs);
    for _ in 0..runs {
        profiles.push(net.profile(&x).await?);
    }
    let total = median(totals);
    let mut report = json!({
        "backend": net.kernels().name(),
        "cpu_kernels": crate::cpu::simd::arch(),
        "device": net.gpu().map(|g| g.name.clone()),
        "batch": batch,
        "runs": runs,
        "total_ms": ms(total),
        "per_item_ms": ms(total / batch as f64),
    });
    let (steps, extra) = match profiles.first() {
        Some(Profile::Gpu(_)) => gpu_steps(&profiles),
        _ => cpu_steps(&profiles),
    };
    let mut top: Vec<&Value> = steps.iter().filter(|s| s["ms"].is_number()).collect();
    top.sort_by(|a, b| b["ms"].as_f64().unwrap_or(0.0).total_cmp(&a["ms"].as_f64().unwrap_or(0.0)));
    let top: Vec<Value> = top.into_iter().take(10).cloned().collect();
    let map = report.as_object_mut().expect("an object");
    map.extend(extra.as_object().cloned().unwrap_or_default());
    map.insert("top".into(), json!(top));
    map.insert("steps".into(), json!(steps));
    Ok(report)
}

/// Per step of the CPU plan: its op and median time.
fn cpu_steps(profiles: &[Profile]) -> (Vec<Value>, Value) {
    let runs: Vec<&Vec<(&str, f64)>> =
        profiles.iter().filter_map(|p| if let Profile::Cpu(s) = p { Some(s) } else { None }).collect();
    let count = runs.first().map_or(0, |r| r.len());
    let steps = (0..count)
        .map(|i| json!({ "index": i, "op": runs[0][i].0, "ms": ms(median(runs.iter().map(|r| r[i].1).collect())) }))
        .collect();
    (steps, json!({ "ops": count }))
}

/// Per dispatch: its node's op, its kernel and median GPU time; the CPU side of a run in phases.
fn gpu_steps(profiles: &[Profile]) -> (Vec<Value>, Value) {
    let runs: Vec<&crate::gpu::GpuProfile> =
        profiles.iter().filter_map(|p| if let Profile::Gpu(g) = p { Some(g) } else { None }).collect();
    let first = runs[0];
    let steps = first
        .dispatches
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let times: Option<Vec<f64>> = runs.iter().map(|r| r.dispatches[i].ms).collect();
            json!({ "index": i, "op": d.ops, "shape": d.shape, "node": d.node, "kernel": d.kernel, "ms": times.map(|t| ms(median(t))) })
        })
        .collect();
    let phase = |f: fn(&crate::gpu::GpuProfile) -> f64| ms(median(runs.iter().map(|r| f(r)).collect()));
    let extra = json!({
        "dispatches": first.dispatches.len(),
        "submits": first.submits,
        "timestamps": first.dispatches.iter().all(|d| d.ms.is_some()),
        "gpu_ms": first.dispatches.iter().all(|d| d.ms.is_some()).then(|| {
            ms(median(runs.iter().map(|r| r.dispatches.iter().filter_map(|d| d.ms).sum()).collect()))
        }),
        "cpu_side": {
            "upload_ms": phase(|p| p.upload_ms),
            "record_ms": phase(|p| p.record_ms),
            "submit_ms": phase(|p| p.submit_ms),
            "wait_ms": phase(|p| p.wait_ms),
            "read_ms": phase(|p| p.read_ms),
            "profiled_total_ms": phase(|p| p.total_ms()),
        },
    });
    (steps, extra)
}
