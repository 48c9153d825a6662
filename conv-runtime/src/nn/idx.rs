//! A reader of the IDX files MNIST and its relatives ship in (already decompressed): a
//! big-endian header, then unsigned bytes.
//!
//! - Images: magic `2051` (`0x00000803`: unsigned bytes, 3 dimensions), then `u32` count, rows
//!   and columns, then `count · rows · cols` pixels, image after image, each row-major.
//! - Labels: magic `2049` (`0x00000801`: unsigned bytes, 1 dimension), then `u32` count, then
//!   `count` labels.
//!
//! The payload must be exactly as long as the header says: a short file and trailing bytes are
//! both an [`IdxError`]. No input panics.
//!
//! ```
//! use conv_runtime::nn::idx;
//!
//! let mut file = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
//! file.extend([10, 20, 30, 40]);
//! let images = idx::read_images(&file).unwrap();
//! assert_eq!((images.count(), images.rows, images.cols), (2, 1, 2));
//! assert_eq!(images.get(1), Some(&[30, 40][..]));
//!
//! let labels = idx::read_labels(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]).unwrap();
//! assert_eq!(labels, [7, 2, 1]);
//! ```

use core::fmt;

/// The magic number of an image file.
pub const IMAGES_MAGIC: u32 = 2051;
/// The magic number of a label file.
pub const LABELS_MAGIC: u32 = 2049;

/// Images of `rows × cols` unsigned bytes, stored one after the other in `pixels`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Images {
    /// Rows of each image.
    pub rows: usize,
    /// Columns of each image.
    pub cols: usize,
    /// The pixels, image after image, each row-major.
    pub pixels: Vec<u8>,
}

impl Images {
    /// The number of whole images in `pixels` (`0` if `rows · cols` is zero or overflows).
    pub fn count(&self) -> usize {
        self.image_len()
            .and_then(|n| self.pixels.len().checked_div(n))
            .unwrap_or(0)
    }

    /// Image `i`, row-major (`rows · cols` bytes), or `None` past the last whole image.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let n = self.image_len()?;
        let start = i.checked_mul(n)?;
        self.pixels.get(start..start.checked_add(n)?)
    }

    fn image_len(&self) -> Option<usize> {
        self.rows.checked_mul(self.cols).filter(|&n| n > 0)
    }
}

/// An IDX file that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdxError {
    /// Fewer bytes than the header needs.
    TooShort {
        /// The header's length (16 for images, 8 for labels).
        needed: usize,
        /// The file's length.
        found: usize,
    },
    /// The magic number is not the one expected.
    Magic {
        /// The file's magic number.
        found: u32,
        /// [`IMAGES_MAGIC`] or [`LABELS_MAGIC`].
        expected: u32,
    },
    /// The payload after the header is shorter than the header says.
    Truncated {
        /// The payload length the header gives.
        expected: usize,
        /// The payload's length.
        found: usize,
    },
    /// The payload after the header is longer than the header says.
    Trailing {
        /// The payload length the header gives.
        expected: usize,
        /// The payload's length.
        found: usize,
    },
    /// An image file whose rows or columns are zero.
    ZeroDimension {
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },
    /// `count · rows · cols` does not fit in a `usize`.
    Overflow {
        /// Images in the header.
        count: u32,
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IdxError::TooShort { needed, found } => write!(
                f,
                "IDX file of {found} bytes is shorter than its {needed}-byte header"
            ),
            IdxError::Magic { found, expected } => {
                write!(f, "IDX magic number is {found}, expected {expected}")
            }
            IdxError::Truncated { expected, found } => write!(
                f,
                "IDX payload is truncated: {found} bytes, but the header gives {expected}"
            ),
            IdxError::Trailing { expected, found } => write!(
                f,
                "IDX payload has trailing bytes: {found} bytes, but the header gives {expected}"
            ),
            IdxError::ZeroDimension { rows, cols } => {
                write!(f, "IDX images are {rows}x{cols}: a dimension is zero")
            }
            IdxError::Overflow { count, rows, cols } => write!(
                f,
                "IDX header's {count} images of {rows}x{cols} do not fit in memory's address range"
            ),
        }
    }
}

impl std::error::Error for IdxError {}

/// Reads an image file (magic [`IMAGES_MAGIC`]).
///
/// # Errors
/// Each [`IdxError`] variant but none other, checked in this order: fewer than 4 bytes
/// ([`TooShort`](IdxError::TooShort)), the magic, fewer than 16 bytes, zero rows or columns,
/// `count · rows · cols` overflowing, then the payload's length.
pub fn read_images(bytes: &[u8]) -> Result<Images, IdxError> {
    let [count, rows, cols] = header::<3>(bytes, IMAGES_MAGIC)?;
    if rows == 0 || cols == 0 {
        return Err(IdxError::ZeroDimension { rows, cols });
    }
    let overflow = IdxError::Overflow { count, rows, cols };
    let len = usize::try_from(count)
        .ok()
        .zip(usize::try_from(rows).ok())
        .zip(usize::try_from(cols).ok())
        .and_then(|((c, r), w)| c.checked_mul(r)?.checked_mul(w))
        .ok_or(overflow)?;
    let pixels = payload(bytes, 16, len)?.to_vec();
    Ok(Images {
        rows: rows as usize,
        cols: cols as usize,
        pixels,
    })
}

/// Reads a label file (magic [`LABELS_MAGIC`]).
///
/// # Errors
/// [`IdxError::TooShort`], [`IdxError::Magic`], [`IdxError::Truncated`] or
/// [`IdxError::Trailing`], checked in that order (fewer than 4 bytes, the magic, fewer than 8
/// bytes, the payload's length).
pub fn read_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let [count] = header::<1>(bytes, LABELS_MAGIC)?;
    let len = usize::try_from(count).map_err(|_| IdxError::Overflow {
        count,
        rows: 1,
        cols: 1,
    })?;
    Ok(payload(bytes, 8, len)?.to_vec())
}

/// The magic checked, then the `D` big-endian `u32` dimensions after it.
fn header<const D: usize>(bytes: &[u8], magic: u32) -> Result<[u32; D], IdxError> {
    let needed = 4 + 4 * D;
    let too_short = IdxError::TooShort {
        needed,
        found: bytes.len(),
    };
    let found = be_u32(bytes, 0).ok_or(too_short)?;
    if found != magic {
        return Err(IdxError::Magic {
            found,
            expected: magic,
        });
    }
    let mut dims = [0; D];
    for (i, d) in dims.iter_mut().enumerate() {
        *d = be_u32(bytes, 4 + 4 * i).ok_or(too_short)?;
    }
    Ok(dims)
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// The bytes after the `header`-byte header, which must number exactly `expected`.
fn payload(bytes: &[u8], header: usize, expected: usize) -> Result<&[u8], IdxError> {
    let rest = bytes.get(header..).unwrap_or(&[]);
    let found = rest.len();
    if found < expected {
        Err(IdxError::Truncated { expected, found })
    } else if found > expected {
        Err(IdxError::Trailing { expected, found })
    } else {
        Ok(rest)
    }
}
