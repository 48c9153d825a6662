//! Weight files: the parameters of a network with the architecture they belong to, so that a
//! file of another network (or of another scalar type) is refused with a typed error.
//!
//! Layout: the magic `b"CONVNETW"`, a format version (`u32`), the length of the architecture
//! line (`u32`) and the line ([`Network::ARCHITECTURE`], UTF-8), the scalar's size in bytes
//! (`u32`), the parameter count (`u64`), then every parameter in
//! [`Network::for_each_parameter`] order; all little-endian.

use super::Network;
use crate::Scalar;
use core::fmt;

const MAGIC: &[u8; 8] = b"CONVNETW";
const VERSION: u32 = 1;

/// Why a weight file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsError {
    /// Not a weight file (the magic is missing).
    NotWeights,
    /// A format version this crate does not read.
    Version(u32),
    /// The file ends before its header or its parameters do.
    Truncated {
        /// Bytes the file needs.
        needed: usize,
        /// Bytes it has.
        found: usize,
    },
    /// Bytes after the last parameter.
    Trailing {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The weights of another network.
    Architecture {
        /// The network's architecture.
        expected: String,
        /// The file's.
        found: String,
    },
    /// Written with another scalar type.
    Scalar {
        /// Bytes per parameter the network uses.
        expected: u32,
        /// Bytes per parameter in the file.
        found: u32,
    },
    /// A parameter count other than the network's.
    Count {
        /// The network's.
        expected: u64,
        /// The file's.
        found: u64,
    },
    /// A parameter is NaN or infinite.
    NotFinite {
        /// Its position in parameter order.
        position: usize,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::NotWeights => write!(f, "not a weight file (no `CONVNETW` magic)"),
            WeightsError::Version(v) => {
                write!(f, "weight file version {v}; this crate reads {VERSION}")
            }
            WeightsError::Truncated { needed, found } => {
                write!(f, "weight file truncated: {found} bytes, needs {needed}")
            }
            WeightsError::Trailing { expected, found } => {
                write!(f, "weight file has {found} bytes, expected {expected}")
            }
            WeightsError::Architecture { expected, found } => write!(
                f,
                "weights of another network: the file holds `{found}`, this network is `{expected}`"
            ),
            WeightsError::Scalar { expected, found } => write!(
                f,
                "weights of {found}-byte scalars; this network uses {expected}-byte scalars"
            ),
            WeightsError::Count { expected, found } => {
                write!(
                    f,
                    "{found} parameters in the file; the network has {expected}"
                )
            }
            WeightsError::NotFinite { position } => {
                write!(f, "parameter {position} in the file is NaN or infinite")
            }
        }
    }
}

impl std::error::Error for WeightsError {}

fn scalar_bytes<N: Network>() -> u32 {
    core::mem::size_of::<N::Scalar>() as u32
}

/// The weight file of `net`.
pub fn save<N: Network>(net: &N) -> Vec<u8> {
    let arch = N::ARCHITECTURE.as_bytes();
    let mut out = Vec::with_capacity(32 + arch.len() + net.parameter_count() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(arch.len() as u32).to_le_bytes());
    out.extend_from_slice(arch);
    out.extend_from_slice(&scalar_bytes::<N>().to_le_bytes());
    out.extend_from_slice(&(net.parameter_count() as u64).to_le_bytes());
    net.for_each_parameter(&mut |p| {
        for v in p {
            match scalar_bytes::<N>() {
                4 => out.extend_from_slice(&(v.to_f64() as f32).to_le_bytes()),
                _ => out.extend_from_slice(&v.to_f64().to_le_bytes()),
            }
        }
    });
    out
}

/// Reads `len` bytes at `*at`.
fn take<'b>(bytes: &'b [u8], at: &mut usize, len: usize) -> Result<&'b [u8], WeightsError> {
    let end = at.saturating_add(len);
    let slice = bytes.get(*at..end).ok_or(WeightsError::Truncated {
        needed: end,
        found: bytes.len(),
    })?;
    *at = end;
    Ok(slice)
}

fn u32_at(bytes: &[u8], at: &mut usize) -> Result<u32, WeightsError> {
    let b = take(bytes, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The network stored in `bytes`.
///
/// # Errors
///
/// A [`WeightsError`] for anything but a complete weight file of this network.
pub fn load<N: Network>(bytes: &[u8]) -> Result<N, WeightsError> {
    let mut at = 0;
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(WeightsError::NotWeights);
    }
    at += MAGIC.len();
    let version = u32_at(bytes, &mut at)?;
    if version != VERSION {
        return Err(WeightsError::Version(version));
    }
    let len = u32_at(bytes, &mut at)? as usize;
    let arch = take(bytes, &mut at, len)?;
    if arch != N::ARCHITECTURE.as_bytes() {
        return Err(WeightsError::Architecture {
            expected: N::ARCHITECTURE.to_string(),
            found: String::from_utf8_lossy(arch).into_owned(),
        });
    }
    let scalar = u32_at(bytes, &mut at)?;
    if scalar != scalar_bytes::<N>() {
        return Err(WeightsError::Scalar {
            expected: scalar_bytes::<N>(),
            found: scalar,
        });
    }
    let c = take(bytes, &mut at, 8)?;
    let count = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    let mut net = N::zeroed();
    let expected = net.parameter_count() as u64;
    if count != expected {
        return Err(WeightsError::Count {
            expected,
            found: count,
        });
    }
    let width = scalar as usize;
    let needed = at + expected as usize * width;
    if bytes.len() != needed {
        return Err(if bytes.len() < needed {
            WeightsError::Truncated {
                needed,
                found: bytes.len(),
            }
        } else {
            WeightsError::Trailing {
                expected: needed,
                found: bytes.len(),
            }
        });
    }
    let mut values = bytes[at..].chunks_exact(width);
    let mut position = 0;
    let mut bad = None;
    net.for_each_parameter_mut(&mut |p| {
        for (v, b) in p.iter_mut().zip(values.by_ref()) {
            let x = match b {
                [a, b, c, d] => f64::from(f32::from_le_bytes([*a, *b, *c, *d])),
                _ => {
                    let mut e = [0u8; 8];
                    e.copy_from_slice(b);
                    f64::from_le_bytes(e)
                }
            };
            if !x.is_finite() && bad.is_none() {
                bad = Some(position);
            }
            *v = N::Scalar::from_f64(x);
            position += 1;
        }
    });
    match bad {
        Some(position) => Err(WeightsError::NotFinite { position }),
        None => Ok(net),
    }
}
