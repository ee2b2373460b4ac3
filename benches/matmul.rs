//! Criterion bench of the CPU matmul at the shapes that matter: an MLP layer at batch 128
//! (128×784 @ 784×1024) and the classic 1024³. Reports GFLOP/s through criterion's throughput.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrograd::Tensor;

/// The CPU pools as the Python module sets them up at import: this (main) thread is worker 0
/// of its own pool, whose idle workers spin between its parallel ops
/// (`backend::cpu::threads`). Idempotent.
fn pool() {
    ferrograd::backend::cpu::threads::init(true);
}

fn bench_matmul(c: &mut Criterion) {
    pool();
    let mut group = c.benchmark_group("matmul");
    group.sample_size(20);
    for &(m, k, n) in &[(128usize, 784usize, 1024usize), (1024, 1024, 1024)] {
        let a = ferrograd::random::randn(&[m, k]);
        let b = ferrograd::random::randn(&[k, n]);
        // FLOPs as "elements": criterion prints them as Gelem/s, i.e. GFLOP/s.
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_function(format!("{m}x{k}x{n}"), |bench| {
            bench.iter(|| -> Tensor { a.matmul(&b).unwrap() })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_matmul);
criterion_main!(benches);
