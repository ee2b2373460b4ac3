//! Checkpoints in the safetensors format: a JSON header plus raw little-endian data, so
//! loading an untrusted file runs no code; a corrupt or truncated file is an error.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

#[cfg(test)]
mod fuzz;

/// Writes `tensors` (name → tensor, as float32) and optional string `metadata` to `path`.
/// The file is written beside the target and renamed into place, so a crash never leaves a
/// half-written checkpoint under the final name.
pub fn save(tensors: &[(String, Tensor)], metadata: Option<HashMap<String, String>>, path: &Path) -> Result<()> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| Ok((name.clone(), t.try_to_vec()?.iter().flat_map(|v| v.to_le_bytes()).collect(), t.shape().to_vec())))
        .collect::<Result<_>>()?;
    let mut seen = std::collections::HashSet::new();
    for (name, _, _) in &bytes {
        if !seen.insert(name) {
            return Err(Error::Value(format!("save: duplicate tensor name {name:?}")));
        }
    }
    let views = bytes
        .iter()
        .map(|(name, b, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::Value(format!("save: tensor {name:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let buf = safetensors::tensor::serialize(views, metadata).map_err(|e| Error::Value(format!("save: {e}")))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("checkpoint"),
        std::process::id()
    ));
    let io = |e: std::io::Error| Error::Runtime(format!("save: cannot write {}: {e}", path.display()));
    std::fs::write(&tmp, &buf).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// Reads every tensor of a safetensors file (names sorted) as float32, and its metadata.
/// Float16/bfloat16/float64 and integer/bool tensors are converted to float32.
pub fn load(path: &Path) -> Result<(Vec<(String, Tensor)>, HashMap<String, String>)> {
    let buf = std::fs::read(path).map_err(|e| Error::Runtime(format!("load: cannot read {}: {e}", path.display())))?;
    load_bytes(&buf).map_err(|e| Error::Value(format!("load: {} is not a valid safetensors file: {e}", path.display())))
}

pub fn load_bytes(buf: &[u8]) -> std::result::Result<(Vec<(String, Tensor)>, HashMap<String, String>), String> {
    let st = SafeTensors::deserialize(buf).map_err(|e| e.to_string())?;
    let (_, meta) = SafeTensors::read_metadata(buf).map_err(|e| e.to_string())?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let mut out = Vec::new();
    for (name, view) in st.tensors() {
        check_shape(view.shape()).map_err(|e| format!("tensor {name:?}: {e}"))?;
        let data = to_f32(view.dtype(), view.data()).map_err(|e| format!("tensor {name:?}: {e}"))?;
        let t = Tensor::from_vec(data, view.shape()).map_err(|e| format!("tensor {name:?}: {e}"))?;
        out.push((name, t));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((out, metadata))
}

/// The largest size of one dim, and of the product of the non-zero dims: a tensor's bytes must
/// fit an `isize`. safetensors accepts e.g. shape [0, 2**63] (no data), which no tensor or
/// numpy array can represent.
const MAX_NUMEL: usize = (isize::MAX as usize) / std::mem::size_of::<f32>();

fn check_shape(shape: &[usize]) -> std::result::Result<(), String> {
    let product = shape.iter().filter(|&&d| d != 0).try_fold(1usize, |n, &d| n.checked_mul(d));
    match product {
        Some(n) if n <= MAX_NUMEL => Ok(()),
        _ => Err(format!("shape {shape:?} is too large")),
    }
}

fn to_f32(dtype: Dtype, b: &[u8]) -> std::result::Result<Vec<f32>, String> {
    fn chunks<const N: usize>(b: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        b.chunks_exact(N).map(|c| c.try_into().expect("exact chunk"))
    }
    Ok(match dtype {
        Dtype::F32 => chunks::<4>(b).map(f32::from_le_bytes).collect(),
        Dtype::F64 => chunks::<8>(b).map(|c| f64::from_le_bytes(c) as f32).collect(),
        // f16 / bf16: widen by bit manipulation (bf16 is the top half of an f32).
        Dtype::BF16 => chunks::<2>(b).map(|c| f32::from_bits((u16::from_le_bytes(c) as u32) << 16)).collect(),
        Dtype::F16 => chunks::<2>(b).map(|c| f16_to_f32(u16::from_le_bytes(c))).collect(),
        Dtype::I64 => chunks::<8>(b).map(|c| i64::from_le_bytes(c) as f32).collect(),
        Dtype::I32 => chunks::<4>(b).map(|c| i32::from_le_bytes(c) as f32).collect(),
        Dtype::I16 => chunks::<2>(b).map(|c| i16::from_le_bytes(c) as f32).collect(),
        Dtype::I8 => b.iter().map(|&x| x as i8 as f32).collect(),
        Dtype::U8 => b.iter().map(|&x| x as f32).collect(),
        Dtype::BOOL => b.iter().map(|&x| if x != 0 { 1.0 } else { 0.0 }).collect(),
        other => return Err(format!("dtype {other:?} is not supported")),
    })
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise the fraction.
            let mut e = 127 - 15 + 1;
            let mut f = f;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = std::env::temp_dir().join(format!("fg-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.safetensors");
        let t = Tensor::from_vec(vec![1.0, -2.5, 3.0, 4.0], &[2, 2]).unwrap();
        save(&[("w".into(), t)], None, &p).unwrap();
        let (back, _) = load(&p).unwrap();
        assert_eq!(back[0].0, "w");
        assert_eq!(back[0].1.to_vec(), vec![1.0, -2.5, 3.0, 4.0]);
        let bytes = std::fs::read(&p).unwrap();
        assert!(load_bytes(&bytes[..bytes.len() - 3]).is_err());
        assert!(load_bytes(b"garbage").is_err());
        // found by the fuzzer: an empty tensor with a dim past isize::MAX loaded, then broke numpy
        let h = br#"{"w":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}}"#;
        let mut f = (h.len() as u64).to_le_bytes().to_vec();
        f.extend_from_slice(h);
        assert!(load_bytes(&f).unwrap_err().contains("too large"));
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
