//! The CPU thread pools, set up so that a parallel region started from Python's main thread
//! does not wait for a sleeping thread.
//!
//! Two costs dominated small and medium regions on these virtual machines. (1) A region started
//! from a thread outside the pool is injected into it, and the caller blocks until a worker
//! finishes it: one wake-up of a worker and one of the caller. (2) A worker that has found no
//! work for a few µs goes to sleep, and waking it is an inter-processor interrupt through the
//! hypervisor, tens of µs. Measured with a 30 µs loop split in two halves, run every ~90 µs from
//! the main thread: 92 µs with rayon's defaults, 43 µs with the main thread as a member of the
//! pool, 16 µs with that and the other workers kept awake (and 137 µs with the workers kept
//! awake but the caller outside the pool: the spinners hold the cores its wake-up needs).
//!
//! So, as OpenMP runtimes do (GOMP_SPINCOUNT, KMP_BLOCKTIME): Python's main thread is worker 0
//! of a pool of its own ([`init`]), and a region it starts ([`begin_parallel`]) leaves that
//! pool's other workers spinning, ready to steal, until they have found nothing to do for
//! `FERROGRAD_SPIN_US` µs (default [`DEFAULT_SPIN_US`]; 0 turns spinning off;
//! `ferrograd.set_spin_us` changes it at run time). Any other thread's regions go to rayon's
//! global pool, as before, with no spinning: a thread outside a pool blocks while its region
//! runs, and needs a free core to wake up on. (Making the main thread a member of the global
//! pool instead would leave other threads one worker short whenever the main thread is busy
//! in Python, e.g. training in a background thread.) Both pools have `RAYON_NUM_THREADS`
//! threads (default: the cores); rayon routes each call by the calling thread, so the kernels
//! do not choose. Spinning burns cores only while regions keep coming, as in a training loop;
//! turn it off when the process shares its cores with other busy processes (the search's
//! worker processes do). With `RAYON_NUM_THREADS` above the cores it is off by default.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long (µs) an idle worker keeps spinning after its last job, unless `FERROGRAD_SPIN_US`
/// says otherwise. Longer than the Python-side gaps between regions in a training step
/// (tens of µs) and between steps, short enough to go quiet soon after training stops.
pub const DEFAULT_SPIN_US: u64 = 1000;

/// Spinner jobs running (or queued) on the main pool's workers; new ones start only when none
/// are.
static SPINNERS: AtomicUsize = AtomicUsize::new(0);
/// The pool whose worker 0 is Python's main thread (absent with one thread, or when the module
/// was first imported from another thread).
static MAIN_POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();

/// The spin window in µs; `UNSET` until first read from `FERROGRAD_SPIN_US` or set.
static SPIN_US: AtomicU64 = AtomicU64::new(UNSET);
const UNSET: u64 = u64::MAX;

/// How long (µs) idle workers keep spinning: `set_spin_us`'s value, else `FERROGRAD_SPIN_US`,
/// else `DEFAULT_SPIN_US`, or 0 when the pool has more threads than the machine has cores
/// (spinners would then take turns with the threads doing the work). An unreadable variable
/// counts as unset.
pub fn spin_us() -> u64 {
    let us = SPIN_US.load(Ordering::Relaxed);
    if us != UNSET {
        return us;
    }
    let from_env = std::env::var("FERROGRAD_SPIN_US").ok().and_then(|v| v.trim().parse::<u64>().ok());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let default = if rayon::current_num_threads() > cores { 0 } else { DEFAULT_SPIN_US };
    let us = from_env.unwrap_or(default).min(UNSET - 1);
    // A concurrent `set_spin_us` wins over the environment.
    match SPIN_US.compare_exchange(UNSET, us, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => us,
        Err(set) => set,
    }
}

/// Sets the spin window (0: workers sleep as soon as they run out of work). Spinners already
/// running stop at their next check.
pub fn set_spin_us(us: u64) {
    SPIN_US.store(us.min(UNSET - 1), Ordering::Relaxed);
}

/// Threads the global pool will have: `RAYON_NUM_THREADS` when it is a positive number (as
/// rayon reads it), otherwise the machine's available parallelism.
fn configured_threads() -> usize {
    let from_env = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
    match from_env {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    }
}

/// Sets up the pools (once; later calls do nothing). With `caller_is_main` (the caller is
/// Python's main thread) and more than one thread, builds the main pool with the calling
/// thread as its worker 0: its regions then run half in place instead of being handed to a
/// worker and waited for. A one-thread setup has no main pool: the main thread as the only
/// member would run everything itself, and rayon's global pool already keeps one-thread
/// regions on the calling thread here (`begin_parallel` returns false).
pub fn init(caller_is_main: bool) {
    let threads = configured_threads();
    if !caller_is_main || threads < 2 || MAIN_POOL.get().is_some() {
        return;
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ferrograd-main-{i}"))
        .use_current_thread()
        .build();
    if let Ok(pool) = built {
        let _ = MAIN_POOL.set(pool);
    }
}

/// Whether a region may split across threads: more than one thread in the calling thread's
/// pool. From the main pool's worker 0 (Python's main thread) it also keeps that pool's other
/// workers spinning for a while (see the module comment), so call it just before a region that
/// will split, and only then.
pub fn begin_parallel() -> bool {
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return false;
    }
    if let Some(pool) = MAIN_POOL.get() {
        if pool.current_thread_index() == Some(0) {
            keep_warm(pool, threads);
        }
    }
    true
}

/// Starts a spinner on every worker of the main pool but the main thread, unless they are
/// already running.
fn keep_warm(pool: &rayon::ThreadPool, threads: usize) {
    if spin_us() == 0 {
        return;
    }
    if SPINNERS.compare_exchange(0, threads - 1, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return;
    }
    pool.spawn_broadcast(|ctx| {
        if ctx.index() == 0 {
            return; // the main thread runs its copy the next time it waits in rayon: a no-op
        }
        spin();
        SPINNERS.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Runs whatever work the main pool has (stolen from the main thread) until none has come for
/// the spin window. The work itself is ordinary rayon jobs; this only
/// keeps the thread from going to sleep between them.
fn spin() {
    let mut last_work = Instant::now();
    let mut idle_rounds = 0u32;
    loop {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => {
                last_work = Instant::now();
                idle_rounds = 0;
            }
            Some(rayon::Yield::Idle) => {
                idle_rounds = idle_rounds.wrapping_add(1);
                // Reading the clock costs ~20 ns: every 64 rounds is often enough.
                if idle_rounds % 64 == 0 && last_work.elapsed() > Duration::from_micros(spin_us()) {
                    return;
                }
                std::hint::spin_loop();
            }
            None => return, // not a worker thread (cannot happen for a broadcast job)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn main_pool_spinners_run_regions_and_stop() {
        // A thread standing in for Python's main thread sets up the main pool and runs
        // regions from it: they run in that pool, start its spinners, give the same sums, and
        // the spinners stop once no work has come for the window.
        std::thread::spawn(|| {
            init(true);
            let data: Vec<u64> = (0..1_000_000).collect();
            let expect: u64 = data.iter().sum();
            let Some(pool) = MAIN_POOL.get() else {
                return; // one thread configured: no main pool to test
            };
            assert_eq!(pool.current_thread_index(), Some(0));
            // A long window, so that the spinners are surely still running when counted.
            set_spin_us(200_000);
            for _ in 0..20 {
                assert!(begin_parallel());
                assert_eq!(data.par_iter().sum::<u64>(), expect);
            }
            assert_eq!(SPINNERS.load(Ordering::Acquire), rayon::current_num_threads() - 1);
            // Back to a short window: running spinners see it at their next check.
            set_spin_us(DEFAULT_SPIN_US);
            let deadline = Instant::now() + Duration::from_secs(5);
            while SPINNERS.load(Ordering::Acquire) != 0 {
                assert!(Instant::now() < deadline, "spinners did not stop after the idle window");
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(data.par_iter().sum::<u64>(), expect);
        })
        .join()
        .unwrap();
        // Another thread is not the main pool's worker 0: its regions use the global pool and
        // start no spinners.
        assert_eq!(MAIN_POOL.get().and_then(|p| p.current_thread_index()), None);
    }
}
