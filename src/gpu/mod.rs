//! The GPU backend on `wgpu`: WGSL compute kernels for every op of the models, natively on Vulkan (lavapipe
//! in CI) and in the browser on WebGPU. `Gpu` is the device; `GpuModel` a graph compiled for it (`compile`),
//! planned once per input shape (`plan`, `dispatch*`, `bind`) and run (`run`); `kernels` and `params` say
//! what each kernel computes and is told.

mod bind;
mod compile;
mod dispatch;
mod dispatch_elementwise;
mod dispatch_spatial;
mod fuse;
mod kernels;
#[cfg(test)]
mod layout_tests;
mod params;
mod plan;
mod profile;
mod run;

pub use compile::GpuModel;
pub use fuse::Fusion;
pub use profile::{DispatchTime, GpuProfile};

use crate::error::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A GPU device and what went wrong with it so far.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// The adapter, for reports: "name (backend)".
    pub name: String,
    /// A GPU emulated on the CPU (lavapipe, SwiftShader): slower than the CPU kernels.
    pub software: bool,
    /// Whether the device times passes (`TIMESTAMP_QUERY`): profiles then give each dispatch's GPU time.
    pub timestamps: bool,
    /// Set when the device is lost: every later run fails with this reason.
    lost: Arc<Mutex<Option<String>>>,
    /// Whether a run or a model load holds the device, and who waits for it.
    turns: Mutex<(bool, Vec<Waker>)>,
    /// Faults forced by tests, each taken once.
    faults: Mutex<Vec<Fault>>,
}

/// Faults a test can force on a device (`Gpu::inject`), to check the fallback to the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The next run fails as the driver's out-of-memory error would fail it.
    OutOfMemory,
    /// The next model loaded gets a kernel the device cannot compile (invalid WGSL, rejected by the device).
    PipelineCreation,
}

/// Whether this JavaScript environment has WebGPU: wgpu must not be asked where there is none (Node.js),
/// where it panics instead of saying so.
#[cfg(target_arch = "wasm32")]
fn has_webgpu() -> bool {
    let get = |object: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(object, &key.into()).ok();
    let navigator = get(&js_sys::global(), "navigator").filter(|n| n.is_object());
    navigator.and_then(|n| get(&n, "gpu")).is_some_and(|gpu| gpu.is_object())
}

/// What the kernels need of an adapter beyond WebGPU's defaults.
const WORKGROUP_INVOCATIONS: u32 = 256;
/// The matmul's two slices of 272 vec4s (matmul_tile.wgsl).
const WORKGROUP_STORAGE: u32 = 2 * 272 * 16;
const STORAGE_BUFFERS: u32 = 5;

impl Gpu {
    /// Opens the first high-performance adapter; an error says why there is none.
    // In the browser WebGPU handles are neither Send nor Sync, and everything runs on one thread.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub async fn new() -> Result<Arc<Gpu>> {
        #[cfg(target_arch = "wasm32")]
        if !has_webgpu() {
            return Err(Error::gpu("no WebGPU here (navigator.gpu is missing)"));
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        };
        let adapter =
            instance.request_adapter(&options).await.map_err(|e| Error::gpu(format!("no GPU adapter ({e})")))?;
        let info = adapter.get_info();
        let name = format!("{} ({:?})", if info.name.is_empty() { "WebGPU adapter" } else { &info.name }, info.backend);
        let software = info.device_type == wgpu::DeviceType::Cpu;
        let available = adapter.limits();
        if available.max_compute_invocations_per_workgroup < WORKGROUP_INVOCATIONS
            || available.max_compute_workgroup_storage_size < WORKGROUP_STORAGE
            || available.max_storage_buffers_per_shader_stage < STORAGE_BUFFERS
        {
            return Err(Error::gpu(format!("{name} lacks the compute limits the kernels need")));
        }
        // WebGPU's default limits, with buffers as large as the adapter allows (large batches).
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size.min(1 << 30),
            max_buffer_size: available.max_buffer_size.min(1 << 30),
            ..wgpu::Limits::default()
        };
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("localface"),
            required_features: adapter.features() & wgpu::Features::TIMESTAMP_QUERY,
            required_limits,
            experimental_features: wgpu::ExperimentalFeatures::default(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::default(),
        };
        let (device, queue) =
            adapter.request_device(&descriptor).await.map_err(|e| Error::gpu(format!("{name}: no device ({e})")))?;
        let timestamps = device.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let lost = Arc::new(Mutex::new(None));
        let on_lost = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            *on_lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("device lost ({reason:?}): {message}"));
        });
        // Errors outside an error scope would panic by default; runs use scopes, so these are only logged.
        device.on_uncaptured_error(Arc::new(|e| log_error(&e.to_string())));
        Ok(Arc::new(Gpu {
            device,
            queue,
            name,
            software,
            timestamps,
            lost,
            turns: Mutex::new((false, Vec::new())),
            faults: Mutex::new(Vec::new()),
        }))
    }

    /// Fails when the device was lost.
    fn check(&self) -> Result<()> {
        match self.lost.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(reason) => Err(Error::gpu(reason.clone())),
            None => Ok(()),
        }
    }

    /// Waits until no other run or model load uses the device, then holds it until the turn is dropped.
    /// WebGPU's error scopes are one stack per device: overlapping runs (two calls in flight in a page)
    /// would pop each other's scopes.
    async fn turn(&self) -> Turn<'_> {
        std::future::poll_fn(|cx| {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            if turns.0 {
                turns.1.push(cx.waker().clone());
                Poll::Pending
            } else {
                turns.0 = true;
                Poll::Ready(Turn(self))
            }
        })
        .await
    }

    /// Forces a fault once: for tests of the fallback to the CPU (with `simulate_loss`).
    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    /// Whether `fault` was injected (and takes it).
    fn take(&self, fault: Fault) -> bool {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        match faults.iter().position(|&f| f == fault) {
            Some(i) => {
                faults.remove(i);
                true
            }
            None => false,
        }
    }

    /// Destroys the device, as a driver reset would: for tests of the fallback to the CPU.
    pub fn simulate_loss(&self) {
        self.device.destroy();
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        lost.get_or_insert_with(|| "device lost (destroyed)".into());
    }
}

/// The device held by one run or model load (see `Gpu::turn`).
struct Turn<'a>(&'a Gpu);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let waiting = {
            let mut turns = self.0.turns.lock().unwrap_or_else(|e| e.into_inner());
            turns.0 = false;
            std::mem::take(&mut turns.1)
        };
        // All of them: one may have been dropped meanwhile; the others try again, one wins.
        waiting.into_iter().for_each(Waker::wake);
    }
}

fn log_error(message: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::error_1(&format!("localface gpu: {message}").into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("localface gpu: {message}");
}

/// A value delivered once by a callback (the buffer mapping), awaited by a future.
struct Oneshot<T> {
    slot: Mutex<(Option<T>, Option<Waker>)>,
}

impl<T> Oneshot<T> {
    fn new() -> Arc<Oneshot<T>> {
        Arc::new(Oneshot { slot: Mutex::new((None, None)) })
    }

    fn send(&self, value: T) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.0 = Some(value);
        if let Some(waker) = slot.1.take() {
            waker.wake();
        }
    }

    fn recv(self: Arc<Self>) -> impl Future<Output = T> {
        Receive(self)
    }
}

struct Receive<T>(Arc<Oneshot<T>>);

impl<T> Future for Receive<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
