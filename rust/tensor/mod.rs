//! The tensor: a float32 view (`Layout`) over shared `Storage`, plus its autograd state.

mod layout;
pub mod pool;
mod storage;

pub use layout::{broadcast_shapes, contiguous_strides, normalize_dim, numel, Layout};
pub use storage::{Device, Storage};

use crate::autograd::Node;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A float32 tensor of any rank. Cloning is cheap and shares everything (it is the same tensor).
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

pub struct TensorImpl {
    pub(crate) storage: Storage,
    pub(crate) layout: Layout,
    requires_grad: AtomicBool,
    grad: Mutex<Option<Tensor>>,
    /// The node that made this tensor (None for leaves and for results computed without grad).
    pub(crate) grad_fn: Option<Arc<Node>>,
}

/// Tensors alive now, in this process: incremented when a `TensorImpl` is made, decremented
/// when it is dropped (clones share one `TensorImpl` and count once). Leak tests read it.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many tensors are alive (not yet dropped) in this process.
pub fn live_tensors() -> usize {
    LIVE.load(Ordering::Relaxed)
}

impl Drop for TensorImpl {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Tensor {
    pub(crate) fn from_parts(storage: Storage, layout: Layout, grad_fn: Option<Arc<Node>>) -> Tensor {
        LIVE.fetch_add(1, Ordering::Relaxed);
        let requires_grad = grad_fn.is_some();
        // An empty view may point past the end of its storage (t[:, 1] of a (0, 2) tensor);
        // normalising it keeps every kernel's `offset..offset + 0` slice in bounds.
        let layout = if layout.numel() == 0 { Layout::contiguous(&layout.shape) } else { layout };
        Tensor(Arc::new(TensorImpl {
            storage,
            layout,
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
            grad_fn,
        }))
    }

    /// A new contiguous CPU tensor owning `data`.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        let n = numel(shape);
        if n != data.len() {
            return Err(Error::Shape(format!(
                "tensor: {} values do not fill shape {:?} ({} elements)",
                data.len(),
                shape,
                n
            )));
        }
        Ok(Tensor::from_parts(Storage::cpu(data), Layout::contiguous(shape), None))
    }

    pub fn scalar(v: f32) -> Tensor {
        Tensor::from_parts(Storage::cpu(vec![v]), Layout::contiguous(&[]), None)
    }

    pub fn full(shape: &[usize], v: f32) -> Tensor {
        Tensor::from_parts(Storage::cpu(vec![v; numel(shape)]), Layout::contiguous(shape), None)
    }

    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// A tensor on the same storage with another layout, recording `grad_fn`.
    pub(crate) fn view_with(&self, layout: Layout, grad_fn: Option<Arc<Node>>) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout, grad_fn)
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn storage(&self) -> &Storage {
        &self.0.storage
    }

    pub fn device(&self) -> Device {
        self.0.storage.device()
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// The elements in row-major order (a copy; read back from the GPU for a 'wgpu' tensor,
    /// panicking if the device fails: bindings use `try_to_vec`).
    pub fn to_vec(&self) -> Vec<f32> {
        match self.try_to_vec() {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// The elements in row-major order, or the device's error.
    pub fn try_to_vec(&self) -> Result<Vec<f32>> {
        match &self.0.storage {
            Storage::Cpu(_) => {
                let data = self.0.storage.read();
                Ok(crate::backend::cpu::strided::gather(&data, &self.0.layout))
            }
            Storage::Gpu(_) => crate::backend::wgpu::download(self),
        }
    }

    /// This tensor on `device` (the same tensor when it is already there). The copy is a leaf
    /// of the graph's device-crossing: gradients flow back through `to` (see ops/shape.rs).
    pub fn to_device_raw(&self, device: Device) -> Result<Tensor> {
        match (self.device(), device) {
            (a, b) if a == b => Ok(self.clone()),
            (Device::Cpu, Device::Wgpu) => crate::backend::wgpu::upload(self),
            (Device::Wgpu, Device::Cpu) => Tensor::from_vec(self.try_to_vec()?, self.shape()),
            _ => unreachable!("two devices"),
        }
    }

    /// A tensor of `shape` filled with `v`, on `device`.
    pub fn full_on(shape: &[usize], v: f32, device: Device) -> Result<Tensor> {
        match device {
            Device::Cpu => Ok(Tensor::full(shape, v)),
            Device::Wgpu => crate::backend::wgpu::elementwise::full(shape, v),
        }
    }

    /// The single element of a one-element tensor.
    pub fn item(&self) -> Result<f32> {
        if self.numel() != 1 {
            return Err(Error::Value(format!(
                "item: only a tensor with one element can be converted to a Python number, got shape {:?}",
                self.shape()
            )));
        }
        match &self.0.storage {
            Storage::Cpu(_) => Ok(self.0.storage.read()[self.0.layout.offset]),
            Storage::Gpu(_) => Ok(crate::backend::wgpu::download(self)?[0]),
        }
    }

    pub fn requires_grad_flag(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Builder form of `set_requires_grad` for fresh leaves.
    pub fn requires_grad(self, flag: bool) -> Tensor {
        self.0.requires_grad.store(flag, Ordering::Relaxed);
        self
    }

    /// Turns gradient tracking on or off for a leaf; a non-leaf always tracks (as in torch).
    pub fn set_requires_grad(&self, flag: bool) -> Result<()> {
        if !self.is_leaf() {
            if flag {
                return Ok(());
            }
            return Err(Error::Runtime(
                "requires_grad_: you can only change requires_grad flags of leaf tensors; use .detach() to get a tensor outside the graph".into(),
            ));
        }
        self.0.requires_grad.store(flag, Ordering::Relaxed);
        Ok(())
    }

    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    pub fn grad_fn(&self) -> Option<&Arc<Node>> {
        self.0.grad_fn.as_ref()
    }

    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_grad(&self, g: Option<Tensor>) -> Result<()> {
        if let Some(g) = &g {
            if g.shape() != self.shape() {
                return Err(Error::Shape(format!(
                    "grad: assigned gradient has shape {:?} but the tensor has shape {:?}",
                    g.shape(),
                    self.shape()
                )));
            }
        }
        *self.0.grad.lock().unwrap_or_else(|e| e.into_inner()) = g;
        Ok(())
    }

    /// Adds `g` into this leaf's `.grad` (gradients accumulate, as in torch).
    pub(crate) fn accumulate_grad(&self, g: Tensor) -> Result<()> {
        // Leaf gradients are kept contiguous: optimizers and in-place updates write into them.
        let g = if g.is_contiguous() { g } else { crate::backend::contiguous(&g)? };
        // A CPU scalar used in GPU arithmetic gets its gradient computed on the GPU.
        let g = g.to_device_raw(self.device())?;
        let mut slot = self.0.grad.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(match slot.take() {
            None => g,
            Some(old) => {
                let _ng = crate::autograd::NoGradGuard::new();
                old.add(&g)?
            }
        });
        Ok(())
    }

    /// Back-propagates from this tensor (see `autograd::backward`).
    pub fn backward(&self, grad: Option<&Tensor>, retain_graph: bool) -> Result<()> {
        crate::autograd::backward(self, grad, retain_graph)
    }

    /// The same data, cut off from the graph (shares storage).
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), self.0.layout.clone(), None)
    }

    /// True if both tensors are the same object.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Overwrites this tensor's elements with `src`'s (broadcast to this shape), in place.
    /// Refuses leaves that require grad while grad mode is on, as torch does.
    pub fn copy_(&self, src: &Tensor) -> Result<()> {
        self.check_inplace("copy_")?;
        let src = if src.shape() == self.shape() { src.clone() } else { src.expand(self.shape())? };
        if let Storage::Gpu(b) = &self.0.storage {
            // A source sharing this buffer is copied out first (a kernel may not read and write
            // one buffer); CPU sources are uploaded.
            let src = if src.storage().same_as(&self.0.storage) { crate::backend::wgpu::elementwise::contiguous(&src)? } else { src };
            crate::backend::wgpu::elementwise::assign(&src, &b.buf, &self.0.layout)?;
            b.bump_version();
            return Ok(());
        }
        // Read the source first: it may share this tensor's storage.
        let values = src.try_to_vec()?;
        let mut data = self.0.storage.write();
        crate::backend::cpu::strided::scatter(&mut data, &self.0.layout, &values);
        Ok(())
    }

    pub fn fill_(&self, v: f32) -> Result<()> {
        self.check_inplace("fill_")?;
        if let Storage::Gpu(b) = &self.0.storage {
            crate::backend::wgpu::elementwise::fill(&b.buf, &self.0.layout, v)?;
            b.bump_version();
            return Ok(());
        }
        let values = vec![v; self.numel()];
        let mut data = self.0.storage.write();
        crate::backend::cpu::strided::scatter(&mut data, &self.0.layout, &values);
        Ok(())
    }

    pub(crate) fn check_inplace(&self, op: &str) -> Result<()> {
        let l = &self.0.layout;
        if l.shape.iter().zip(&l.strides).any(|(s, t)| *s > 1 && *t == 0) {
            return Err(Error::Runtime(format!(
                "{op}: cannot write into an expanded (broadcast) tensor: several of its elements share one memory location; call .contiguous() first"
            )));
        }
        if crate::autograd::is_grad_enabled() && self.requires_grad_flag() {
            if self.is_leaf() {
                return Err(Error::Runtime(format!(
                    "{op}: a leaf tensor that requires grad is being used in an in-place operation; wrap it in `with ferrograd.no_grad():`"
                )));
            }
            return Err(Error::Runtime(format!(
                "{op}: in-place operations on tensors that are part of an autograd graph are not supported; use the out-of-place op"
            )));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor(shape={:?}, requires_grad={})", self.shape(), self.requires_grad_flag())
    }
}
