//! Recording and submitting GPU work, the buffer pool, uploads and read-backs.
//!
//! Kernels are not submitted one by one: each call records a dispatch (pipeline, bind group,
//! workgroup count) and its small parameter block, and `flush` later encodes every recorded
//! dispatch into one compute pass and one submit (DESIGN.md §4: ~5 µs per dispatch in a shared
//! pass against 30–40 µs alone, ~250 µs per submit). Work is flushed when a value is read back
//! (`.numpy()`, `.item()`), when the parameter arena is full, or after `MAX_PENDING` commands
//! (64, so that the GPU works on one batch while the CPU records the next).
//!
//! Buffer reuse is safe by construction: a buffer whose last tensor is dropped goes to `freed`
//! and joins the pool only after the next flush, so it is never reused by work recorded in the
//! same batch, and uploads (`queue.write_buffer`, which runs before the batch it is submitted
//! with) never overwrite data that recorded work still has to read.

use super::context::{gpu, Gpu};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Words reserved per dispatch for its parameters: 256 bytes keeps every block at a legal
/// storage-buffer offset on every device (WebGPU's largest offset alignment is 256).
const PARAM_STRIDE: usize = 64;
const ARENA_WORDS: usize = 1 << 18; // 1 MiB of parameters: 4096 dispatches per batch
/// Commands recorded before a submit. The GPU starts on a batch while the CPU records the next,
/// so batches much smaller than a training step overlap the two: on an H100 the MLP step of
/// benches/gpu_batching.py took 0.83 ms with 1024 commands per submit, 0.81 with 256, 0.71 with
/// 64 and 0.75 with 16 (each submit costs CPU time); the CNN step, bound by GPU time, 2.53–2.70
/// ms whatever the batch.
const MAX_PENDING: usize = 64;

/// `MAX_PENDING`, or `FERROGRAD_WGPU_BATCH` (read once) for tuning on another GPU.
fn max_pending() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::env::var("FERROGRAD_WGPU_BATCH").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(MAX_PENDING))
}
/// Flush once this many bytes were freed since the last flush, so that a long run of recorded
/// work (many training steps with no read-back) reuses memory instead of growing.
const MAX_FREED_BYTES: u64 = 256 << 20;
/// Freed buffers kept for reuse, in bytes; beyond this they are released to the driver.
const POOL_MAX_BYTES: u64 = 4 << 30;
/// Threads per workgroup of the one-dimensional kernels (elementwise, copies, optimizers).
pub const WG: u32 = 256;

enum Cmd {
    Dispatch { pipeline: wgpu::ComputePipeline, bind: wgpu::BindGroup, groups: [u32; 3] },
    Clear { buf: wgpu::Buffer, bytes: u64 },
}

pub struct State {
    cmds: Vec<Cmd>,
    params: Vec<u32>,
    arena: wgpu::Buffer,
    pool: HashMap<u64, Vec<wgpu::Buffer>>,
    pool_bytes: u64,
    pipelines: HashMap<String, wgpu::ComputePipeline>,
}

/// Buffers released since the last flush (a separate lock: a tensor may be dropped anywhere,
/// including while `State` is held).
static FREED: Mutex<Vec<wgpu::Buffer>> = Mutex::new(Vec::new());
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Counters since the process started: dispatches recorded, submits, read-backs.
static DISPATCHES: AtomicU64 = AtomicU64::new(0);
static SUBMITS: AtomicU64 = AtomicU64::new(0);
static READBACKS: AtomicU64 = AtomicU64::new(0);

/// (dispatches, submits, read-backs) so far: how batched the recorded work is.
pub fn stats() -> (u64, u64, u64) {
    (DISPATCHES.load(Ordering::Relaxed), SUBMITS.load(Ordering::Relaxed), READBACKS.load(Ordering::Relaxed))
}

impl State {
    pub fn new(device: &wgpu::Device) -> State {
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ferrograd params"),
            size: (ARENA_WORDS * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        State { cmds: Vec::new(), params: Vec::new(), arena, pool: HashMap::new(), pool_bytes: 0, pipelines: HashMap::new() }
    }
}

/// A tensor's storage on the GPU: a pooled buffer of at least `len` f32 elements.
pub struct GpuBuffer {
    pub(crate) buf: wgpu::Buffer,
    len: usize,
    version: AtomicU64,
}

impl GpuBuffer {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Marks an in-place write (autograd's saved-tensor check reads this, as on the CPU).
    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        FREED_BYTES.fetch_add(self.buf.size(), Ordering::Relaxed);
        FREED.lock().unwrap_or_else(|p| p.into_inner()).push(self.buf.clone());
    }
}

/// Size classes: powers of two up to 1 MiB, then whole MiBs (bounded waste, good reuse).
fn size_class(bytes: u64) -> u64 {
    let b = bytes.max(16);
    if b <= 1 << 20 {
        b.next_power_of_two()
    } else {
        b.div_ceil(1 << 20) << 20
    }
}

fn lock(g: &Gpu) -> std::sync::MutexGuard<'_, State> {
    g.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A buffer for `len` elements (contents undefined: for kernels that write every element).
pub fn alloc(len: usize) -> Result<GpuBuffer> {
    let g = gpu()?;
    let max = g.max_binding_elems();
    if len > max {
        return Err(Error::Runtime(format!(
            "wgpu: a tensor of {len} elements ({} MiB) exceeds this device's largest storage binding ({} MiB, adapter '{}'); \
             split the work into smaller batches or use device 'cpu'",
            (len * 4) >> 20,
            (max * 4) >> 20,
            g.info.name
        )));
    }
    let class = size_class(len as u64 * 4);
    let reused = {
        let mut st = lock(g);
        let hit = st.pool.get_mut(&class).and_then(|v| v.pop());
        if hit.is_some() {
            st.pool_bytes -= class;
        }
        hit
    };
    let buf = match reused {
        Some(b) => b,
        None => g.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: class,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }),
    };
    Ok(GpuBuffer { buf, len, version: AtomicU64::new(0) })
}

/// A buffer of `len` zeros (cleared in order with the recorded work).
pub fn zeros(len: usize) -> Result<GpuBuffer> {
    let b = alloc(len)?;
    if len > 0 {
        let mut st = lock(gpu()?);
        st.cmds.push(Cmd::Clear { buf: b.buf.clone(), bytes: (len * 4) as u64 });
    }
    Ok(b)
}

/// Copies host data into a new buffer.
pub fn upload(data: &[f32]) -> Result<GpuBuffer> {
    let b = alloc(data.len())?;
    if !data.is_empty() {
        gpu()?.queue.write_buffer(&b.buf, 0, as_bytes(data));
    }
    Ok(b)
}

fn as_bytes(v: &[f32]) -> &[u8] {
    // f32 has no padding and any bit pattern is a valid byte: the view is sound.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// A compiled kernel: WGSL source and its entry point, cached by `key`.
pub struct Kernel<'a> {
    pub key: &'a str,
    pub source: &'a str,
    pub entry: &'a str,
}

/// Records one dispatch of `k` with `params` at binding 0 and `(binding, buffer)` pairs.
pub fn dispatch(k: &Kernel, params: &[u32], bufs: &[(u32, &wgpu::Buffer)], groups: [u32; 3]) -> Result<()> {
    if groups.contains(&0) {
        return Ok(());
    }
    let g = gpu()?;
    let max = g.limits.max_compute_workgroups_per_dimension;
    if groups.iter().any(|&n| n > max) {
        return Err(Error::Runtime(format!("wgpu: kernel {} needs {groups:?} workgroups, over this device's {max} per dimension", k.key)));
    }
    let reserve = params.len().max(1).div_ceil(PARAM_STRIDE) * PARAM_STRIDE;
    let mut st = lock(g);
    if st.params.len() + reserve > ARENA_WORDS {
        flush_locked(g, &mut st);
    }
    let pipeline = match st.pipelines.get(k.key) {
        Some(p) => p.clone(),
        None => {
            let module = g.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(k.key),
                source: wgpu::ShaderSource::Wgsl(k.source.into()),
            });
            let p = g.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(k.key),
                layout: None,
                module: &module,
                entry_point: Some(k.entry),
                compilation_options: Default::default(),
                cache: None,
            });
            st.pipelines.insert(k.key.to_string(), p.clone());
            p
        }
    };
    let at = st.params.len();
    st.params.extend_from_slice(params);
    st.params.resize(at + reserve, 0);
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &st.arena,
            offset: (at * 4) as u64,
            size: std::num::NonZeroU64::new((reserve * 4) as u64),
        }),
    }];
    for (b, buf) in bufs {
        entries.push(wgpu::BindGroupEntry { binding: *b, resource: buf.as_entire_binding() });
    }
    let bind = g.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries });
    st.cmds.push(Cmd::Dispatch { pipeline, bind, groups });
    DISPATCHES.fetch_add(1, Ordering::Relaxed);
    maybe_flush(g, &mut st);
    Ok(())
}

/// Workgroups for `n` threads of a one-dimensional kernel, folded into y past the x limit
/// (kernels compute `i = gid.x + gid.y * nwg.x * WG`).
pub fn grid(n: usize) -> [u32; 3] {
    let groups = n.div_ceil(WG as usize);
    let x = groups.min(65535);
    [x as u32, groups.div_ceil(x.max(1)) as u32, 1]
}

fn maybe_flush(g: &Gpu, st: &mut State) {
    if st.cmds.len() >= max_pending() || FREED_BYTES.load(Ordering::Relaxed) >= MAX_FREED_BYTES {
        flush_locked(g, st);
    }
}

fn flush_locked(g: &Gpu, st: &mut State) {
    if st.cmds.is_empty() {
        return;
    }
    if !st.params.is_empty() {
        g.queue.write_buffer(&st.arena, 0, unsafe { std::slice::from_raw_parts(st.params.as_ptr() as *const u8, st.params.len() * 4) });
    }
    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("ferrograd batch") });
    let cmds = std::mem::take(&mut st.cmds);
    let mut i = 0;
    while i < cmds.len() {
        match &cmds[i] {
            Cmd::Dispatch { .. } => {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
                while let Some(Cmd::Dispatch { pipeline, bind, groups }) = cmds.get(i) {
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, bind, &[]);
                    pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                    i += 1;
                }
            }
            Cmd::Clear { buf, bytes } => {
                enc.clear_buffer(buf, 0, Some(*bytes));
                i += 1;
            }
        }
    }
    g.queue.submit([enc.finish()]);
    SUBMITS.fetch_add(1, Ordering::Relaxed);
    st.params.clear();
    // Buffers freed during this batch may be reused by work recorded from now on.
    let freed = std::mem::take(&mut *FREED.lock().unwrap_or_else(|p| p.into_inner()));
    FREED_BYTES.store(0, Ordering::Relaxed);
    for b in freed {
        let class = b.size();
        if st.pool_bytes + class <= POOL_MAX_BYTES {
            st.pool_bytes += class;
            st.pool.entry(class).or_default().push(b);
        }
    }
    let _ = g.device.poll(wgpu::PollType::Poll);
}

/// Submits everything recorded so far.
pub fn flush() -> Result<()> {
    let g = gpu()?;
    flush_locked(g, &mut lock(g));
    g.take_error()
}

/// Reads `n` elements starting at element `offset` of `buf` (flushes recorded work first).
pub fn read(buf: &wgpu::Buffer, offset: usize, n: usize) -> Result<Vec<f32>> {
    let g = gpu()?;
    let mut st = lock(g);
    flush_locked(g, &mut st);
    drop(st);
    g.take_error()?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let bytes = (n * 4) as u64;
    READBACKS.fetch_add(1, Ordering::Relaxed);
    let staging = g.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ferrograd readback"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("ferrograd readback") });
    enc.copy_buffer_to_buffer(buf, (offset * 4) as u64, &staging, 0, bytes);
    g.queue.submit([enc.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    g.device
        .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
        .map_err(|e| Error::Runtime(format!("wgpu: waiting for the device failed: {e}")))?;
    match rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(Error::Runtime(format!("wgpu: reading a tensor back failed: {e}"))),
        Err(_) => return Err(Error::Runtime("wgpu: the device never finished reading a tensor back".into())),
    }
    let out = {
        let view = staging.get_mapped_range(..).map_err(|e| Error::Runtime(format!("wgpu: mapping the read-back buffer failed: {e}")))?;
        let mut v = vec![0.0f32; n];
        // Byte-wise copy: the mapping carries no alignment promise for f32.
        unsafe { std::ptr::copy_nonoverlapping(view.as_ptr(), v.as_mut_ptr() as *mut u8, n * 4) };
        v
    };
    staging.unmap();
    g.take_error()?;
    Ok(out)
}

/// Releases every pooled buffer to the driver (after flushing recorded work).
pub fn empty_cache() -> Result<()> {
    let g = gpu()?;
    let mut st = lock(g);
    flush_locked(g, &mut st);
    st.pool.clear();
    st.pool_bytes = 0;
    Ok(())
}
