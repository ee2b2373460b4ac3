//! A deterministic fuzz loop over `load_bytes` (cargo-fuzz needs nightly Rust; this runs under
//! `cargo test` on stable): valid files of every dtype are mutated byte-wise and, above all,
//! in their JSON header (shapes, offsets and dtypes set to edge values), and every result must
//! be `Ok` or `Err`, never a panic. The Python side has an atheris harness
//! (tests/reliability/fuzz_load.py) and a regression corpus (tests/reliability/corpus/).

use super::load_bytes;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const DTYPES: &[&str] = &[
    "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2",
    "C64", "F4", "", "f32", "XYZ",
];
const EDGE: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    255,
    256,
    65535,
    1 << 31,
    (1 << 32) - 1,
    1 << 32,
    (1 << 62) + 1,
    (1 << 63) - 1,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
];

fn file(header: &str, data_len: usize) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data_len, 0x3f);
    out
}

fn int(rng: &mut Xoshiro256PlusPlus) -> String {
    match rng.random_range(0..4) {
        0 => EDGE[rng.random_range(0..EDGE.len())].to_string(),
        1 => rng.random_range(0..20u64).to_string(),
        2 => format!("-{}", rng.random_range(1..5u64)),
        _ => "1e3".to_string(),
    }
}

/// A header whose fields are drawn from edge values: the structure-aware part of the fuzzer.
fn random_header(rng: &mut Xoshiro256PlusPlus) -> (String, usize) {
    let n = rng.random_range(0..4);
    let mut entries = Vec::new();
    let mut offset = 0u64;
    for i in 0..n {
        let dtype = DTYPES[rng.random_range(0..DTYPES.len())];
        let rank = rng.random_range(0..6);
        let shape: Vec<String> = (0..rank)
            .map(|_| if rng.random_bool(0.6) { rng.random_range(0..5u64).to_string() } else { int(rng) })
            .collect();
        let len = rng.random_range(0..64u64);
        let (a, b) = if rng.random_bool(0.7) { (offset.to_string(), (offset + len).to_string()) } else { (int(rng), int(rng)) };
        offset += len;
        entries.push(format!("\"t{i}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{a},{b}]}}", shape.join(",")));
    }
    if rng.random_bool(0.3) {
        entries.push("\"__metadata__\":{\"k\":\"v\"}".into());
    }
    (format!("{{{}}}", entries.join(",")), offset as usize)
}

fn mutate(rng: &mut Xoshiro256PlusPlus, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..4) {
        if b.is_empty() {
            b.push(rng.random());
            continue;
        }
        let i = rng.random_range(0..b.len());
        match rng.random_range(0..6) {
            0 => b[i] ^= 1 << rng.random_range(0..8),
            1 => b[i] = [0u8, 0xff, b'0', b'9', b'[', b']', b'"', b'-', b','][rng.random_range(0..9)],
            2 => b.truncate(i),
            3 => b.extend((0..rng.random_range(1..16)).map(|_| rng.random::<u8>())),
            4 => {
                // The 8-byte header length: set it to an edge value.
                let n = EDGE[rng.random_range(0..EDGE.len())].to_le_bytes();
                let k = b.len().min(8);
                b[..k].copy_from_slice(&n[..k]);
            }
            _ => {
                let j = rng.random_range(0..b.len());
                b.swap(i, j);
            }
        }
    }
    b
}

fn valid_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (dtype, size) in [("F32", 4), ("F64", 8), ("F16", 2), ("BF16", 2), ("I64", 8), ("I32", 4), ("U8", 1), ("BOOL", 1)] {
        for shape in [vec![], vec![0], vec![3], vec![2, 3], vec![1, 0, 4]] {
            let n: usize = shape.iter().product();
            let shape_s: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let h = format!(
                "{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[0,{}]}}}}",
                shape_s.join(","),
                n * size
            );
            seeds.push(file(&h, n * size));
        }
    }
    seeds
}

fn check(input: &[u8]) {
    let res = std::panic::catch_unwind(|| load_bytes(input));
    assert!(res.is_ok(), "load_bytes panicked on {:?}", String::from_utf8_lossy(&input[..input.len().min(300)]));
}

#[test]
fn valid_seed_files_load() {
    for s in valid_seeds() {
        assert!(load_bytes(&s).is_ok(), "{:?}", String::from_utf8_lossy(&s));
    }
}

#[test]
fn load_bytes_never_panics_on_mutated_files() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xF022);
    let seeds = valid_seeds();
    let iterations = std::env::var("FERROGRAD_FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    for _ in 0..iterations {
        let input = if rng.random_bool(0.5) {
            let (h, len) = random_header(&mut rng);
            let data = if rng.random_bool(0.8) { len } else { rng.random_range(0..128) };
            let f = file(&h, data);
            if rng.random_bool(0.3) { mutate(&mut rng, f) } else { f }
        } else {
            let seed = seeds[rng.random_range(0..seeds.len())].clone();
            mutate(&mut rng, seed)
        };
        check(&input);
    }
}
