//! A pool of freed CPU buffers, reused by later tensors of the same length.
//!
//! A training step allocates the same sizes every step (activations, gradients, GEMM outputs).
//! Fresh multi-megabyte allocations cost page faults and, through `vec![0.0; n]`, a zero fill
//! that a kernel then overwrites; a reused buffer costs neither. Buffers come back here when the
//! last tensor on them is dropped. Reused buffers hold stale (initialised) values: `take` is for
//! kernels that overwrite every element, `zeroed` for those that accumulate.
//!
//! Bounded: only buffers of at least `MIN_LEN` elements are kept, at most `PER_SIZE` per length
//! and `MAX_BYTES` in all, so the pool adds little to peak memory.

use std::collections::HashMap;
use std::sync::Mutex;

const MIN_LEN: usize = 1 << 12;
const PER_SIZE: usize = 6;
const MAX_BYTES: usize = 96 << 20;

struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(|| Pool { free: HashMap::new(), bytes: 0 }))
}

/// A buffer of `n` elements with unspecified (stale but initialised) contents.
pub fn take(n: usize) -> Vec<f32> {
    if n >= MIN_LEN {
        let hit = with_pool(|p| {
            let v = p.free.get_mut(&n).and_then(|l| l.pop());
            if v.is_some() {
                p.bytes -= n * 4;
            }
            v
        });
        if let Some(v) = hit {
            return v;
        }
    }
    vec![0.0; n]
}

/// A buffer of `n` zeros.
pub fn zeroed(n: usize) -> Vec<f32> {
    let mut v = take(n);
    v.fill(0.0);
    v
}

/// Hands a buffer back for reuse (dropped instead when the pool is full or it is small).
pub fn give(v: Vec<f32>) {
    let n = v.len();
    if n < MIN_LEN || v.capacity() != n {
        return;
    }
    with_pool(|p| {
        if p.bytes + n * 4 > MAX_BYTES {
            return;
        }
        let list = p.free.entry(n).or_default();
        if list.len() < PER_SIZE {
            list.push(v);
            p.bytes += n * 4;
        }
    });
}

/// Drops every pooled buffer (returns the memory to the allocator).
pub fn clear() {
    with_pool(|p| {
        p.free.clear();
        p.bytes = 0;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_zeroes() {
        let n = MIN_LEN + 17; // a length no other test uses
        let mut v = take(n);
        v.fill(3.0);
        let ptr = v.as_ptr();
        give(v);
        let z = zeroed(n);
        assert_eq!(z.len(), n);
        assert!(z.iter().all(|&x| x == 0.0));
        // Same buffer back (unless another test thread took it, which no other length-n user does).
        assert_eq!(z.as_ptr(), ptr);
        assert_eq!(take(5).len(), 5);
    }
}
