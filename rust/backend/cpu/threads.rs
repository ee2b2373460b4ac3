//! The CPU thread pool: rayon's global pool, set up so that a parallel region started from
//! Python does not wait for a sleeping thread.
//!
//! Two costs dominated small and medium regions on these virtual machines. (1) A region started
//! from a thread outside the pool is injected into it, and the caller blocks until a worker
//! finishes it: one wake-up of a worker and one of the caller. (2) A worker that has found no
//! work for a few µs goes to sleep, and waking it is an inter-processor interrupt through the
//! hypervisor, tens of µs. Measured with a 30 µs loop split in two halves, run every ~90 µs from
//! the main thread: 92 µs with rayon's defaults, 43 µs with the main thread as a member of the
//! pool, 16 µs with that and the other workers kept awake.
//!
//! So, as OpenMP runtimes do (GOMP_SPINCOUNT, KMP_BLOCKTIME): the Python main thread is worker
//! 0 of the pool ([`init`]), and a parallel region ([`begin_parallel`]) leaves the other workers
//! spinning, ready to steal, until they have found nothing to do for `FERROGRAD_SPIN_US` µs
//! (default [`DEFAULT_SPIN_US`]; 0 turns spinning off; `ferrograd.set_spin_us` changes it at
//! run time). Spinning burns those cores only while regions keep coming, as in a training loop;
//! turn it off when the process shares its cores with other busy processes (the search's
//! worker processes do). With `RAYON_NUM_THREADS` above the cores it is off by default.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long (µs) an idle worker keeps spinning after its last job, unless `FERROGRAD_SPIN_US`
/// says otherwise. Longer than the Python-side gaps between regions in a training step
/// (tens of µs) and between steps, short enough to go quiet soon after training stops.
pub const DEFAULT_SPIN_US: u64 = 1000;

/// Spinner jobs running (or queued) on the workers; new ones start only when none are.
static SPINNERS: AtomicUsize = AtomicUsize::new(0);
/// Whether the thread that called `init` (Python's main thread) is worker 0 of the pool.
static CALLER_IS_WORKER: AtomicBool = AtomicBool::new(false);

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

/// Builds the global pool. With `caller_joins` (the caller is Python's main thread) and more
/// than one thread, the calling thread becomes worker 0: its regions then run half in place
/// instead of being handed to a worker and waited for. A one-thread pool keeps its own worker:
/// with the main thread as the only member, a region started from another Python thread would
/// wait for the main thread to enter rayon, which it may never do.
///
/// Does nothing if the pool already exists (rayon builds it on first use otherwise).
pub fn init(caller_joins: bool) {
    let threads = configured_threads();
    let join = caller_joins && threads > 1;
    let mut builder = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ferrograd-{i}"));
    if join {
        builder = builder.use_current_thread();
    }
    if builder.build_global().is_ok() && join {
        CALLER_IS_WORKER.store(true, Ordering::Release);
    }
}

/// Whether a region may split across threads: more than one thread in the pool. It also keeps
/// the other workers spinning for a while (see the module comment), so call it just before a
/// region that will split, and only then.
pub fn begin_parallel() -> bool {
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return false;
    }
    keep_warm(threads);
    true
}

/// Starts a spinner on every worker but the main thread, unless they are already running.
fn keep_warm(threads: usize) {
    if spin_us() == 0 {
        return;
    }
    let skip_main = CALLER_IS_WORKER.load(Ordering::Acquire);
    let spinners = threads - usize::from(skip_main);
    if SPINNERS.compare_exchange(0, spinners, Ordering::AcqRel, Ordering::Relaxed).is_err() {
        return;
    }
    rayon::spawn_broadcast(move |ctx| {
        if skip_main && ctx.index() == 0 {
            return; // the main thread runs its copy the next time it waits in rayon: a no-op
        }
        spin();
        SPINNERS.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Runs whatever work the pool has (stolen from the other workers or injected from outside)
/// until none has come for the spin window. The work itself is ordinary rayon jobs; this only
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

    #[test]
    fn spinners_finish_and_regions_still_split() {
        // The test binary's pool is rayon's default (built on first use); whatever its size,
        // regions must compute the same result with spinners running and after they stop.
        let data: Vec<u64> = (0..1_000_000).collect();
        let expect: u64 = data.iter().sum();
        use rayon::prelude::*;
        for _ in 0..20 {
            let _ = begin_parallel();
            assert_eq!(data.par_iter().sum::<u64>(), expect);
        }
        let deadline = Instant::now() + Duration::from_micros(spin_us()) + Duration::from_secs(5);
        while SPINNERS.load(Ordering::Acquire) != 0 {
            assert!(Instant::now() < deadline, "spinners did not stop after the idle window");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(data.par_iter().sum::<u64>(), expect);
    }
}
