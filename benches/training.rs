//! Criterion benches of the training workloads, from Rust alone (no Python): conv2d forward +
//! backward, a Linear+ReLU+dropout block forward + backward, one Adam step over 1M parameters,
//! and one whole MLP training step (784-1024-1024-10, dropout, Adam, batch 128) through
//! `ferrograd::nn::Sequential`. `python benches/compare.py` sets these against PyTorch.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrograd::nn::{Layer, Sequential};
use ferrograd::optim::{step_tensors, AdamParams, Rule};
use ferrograd::random::randn;
use ferrograd::Tensor;

/// The CPU pools as the Python module sets them up at import: this (main) thread is worker 0
/// of its own pool, whose idle workers spin between its parallel ops
/// (`backend::cpu::threads`). Idempotent.
fn pool() {
    ferrograd::backend::cpu::threads::init(true);
}

fn param(shape: &[usize], scale: f32) -> Tensor {
    randn(shape).mul_scalar(scale).unwrap().requires_grad(true)
}

fn bench_conv(c: &mut Criterion) {
    pool();
    let mut g = c.benchmark_group("conv2d");
    g.sample_size(10);
    // The benchmark CNN's second conv at batch 128: (128, 32, 14, 14) * (64, 32, 5, 5).
    let x = randn(&[128, 32, 14, 14]).requires_grad(true);
    let w = param(&[64, 32, 5, 5], 0.05);
    let b = param(&[64], 0.1);
    g.bench_function("fwd_bwd_128x32x14x14_k5x64", |bench| {
        bench.iter(|| {
            let y = x.conv2d(&w, Some(&b), (1, 1), (2, 2), (1, 1)).unwrap();
            y.sum_all().unwrap().backward(None, false).unwrap();
            x.set_grad(None).unwrap();
            w.set_grad(None).unwrap();
            b.set_grad(None).unwrap();
        })
    });
    g.finish();
}

fn bench_block(c: &mut Criterion) {
    pool();
    let mut g = c.benchmark_group("linear_relu_dropout");
    g.sample_size(20);
    let x = randn(&[128, 1024]);
    let w = param(&[1024, 1024], 0.03);
    let b = param(&[1024], 0.1);
    g.bench_function("fwd_bwd_128x1024x1024", |bench| {
        bench.iter(|| {
            let y = x.linear(&w, Some(&b)).unwrap().relu().unwrap().dropout(0.5, true).unwrap();
            y.sum_all().unwrap().backward(None, false).unwrap();
            w.set_grad(None).unwrap();
            b.set_grad(None).unwrap();
        })
    });
    g.finish();
}

fn bench_adam(c: &mut Criterion) {
    pool();
    let mut g = c.benchmark_group("adam");
    g.sample_size(30);
    let n = 1 << 20;
    let p = param(&[n], 1.0);
    p.set_grad(Some(randn(&[n]))).unwrap();
    let states = vec![vec![Tensor::zeros(&[n]), Tensor::zeros(&[n])]];
    let rule = Rule::Adam(AdamParams::default());
    let mut step = 0u64;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("step_1M", |bench| {
        bench.iter(|| {
            step += 1;
            step_tensors(&rule, std::slice::from_ref(&p), &states, &[step]).unwrap();
        })
    });
    g.finish();
}

fn bench_mlp_step(c: &mut Criterion) {
    pool();
    let mut g = c.benchmark_group("mlp_step");
    g.sample_size(10);
    let (w1, b1) = (param(&[1024, 784], 0.05), param(&[1024], 0.0));
    let (w2, b2) = (param(&[1024, 1024], 0.04), param(&[1024], 0.0));
    let (w3, b3) = (param(&[10, 1024], 0.04), param(&[10], 0.0));
    let params = vec![w1.clone(), b1.clone(), w2.clone(), b2.clone(), w3.clone(), b3.clone()];
    let seq = Sequential::new(vec![
        Layer::Dropout { p: 0.2, training: true },
        Layer::Linear { weight: w1, bias: Some(b1) },
        Layer::Relu,
        Layer::Dropout { p: 0.5, training: true },
        Layer::Linear { weight: w2, bias: Some(b2) },
        Layer::Relu,
        Layer::Dropout { p: 0.5, training: true },
        Layer::Linear { weight: w3, bias: Some(b3) },
    ]);
    let states: Vec<Vec<Tensor>> =
        params.iter().map(|p| vec![Tensor::zeros(p.shape()), Tensor::zeros(p.shape())]).collect();
    let rule = Rule::Adam(AdamParams::default());
    let x = ferrograd::random::rand(&[128, 784]);
    let y: Vec<i64> = (0..128).map(|i| (i * 7 % 10) as i64).collect();
    let mut step = 0u64;
    g.throughput(Throughput::Elements(128));
    g.bench_function("784-1024-1024-10_dropout_adam_b128", |bench| {
        bench.iter(|| {
            step += 1;
            for p in &params {
                p.set_grad(None).unwrap();
            }
            let out = seq.forward_loss(&x, &y, -100).unwrap();
            out.loss.backward(None, false).unwrap();
            step_tensors(&rule, &params, &states, &vec![step; params.len()]).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench_conv, bench_block, bench_adam, bench_mlp_step);
criterion_main!(benches);
