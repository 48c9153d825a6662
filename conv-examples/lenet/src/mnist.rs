//! The MNIST files in `data/` (IDX, gzip-compressed), read into images scaled to `[0, 1]`.

use conv_runtime::nn::idx::{self, IdxError};
use flate2::read::GzDecoder;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One 28x28 image, channel-first, pixels divided by 255.
pub type Image = [[[f32; 28]; 28]; 1];

/// Images and their labels.
pub struct Set {
    /// The images.
    pub images: Vec<Image>,
    /// One label (0 to 9) per image.
    pub labels: Vec<usize>,
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum MnistError {
    /// The file could not be opened or decompressed.
    Io(PathBuf, std::io::Error),
    /// The file is not a valid IDX file.
    Idx(PathBuf, IdxError),
    /// The images are not 28x28.
    Size(PathBuf, usize, usize),
    /// Image and label counts differ.
    Counts(usize, usize),
    /// A label is not a digit.
    Label(usize, u8),
}

impl fmt::Display for MnistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MnistError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            MnistError::Idx(p, e) => write!(f, "{}: {e}", p.display()),
            MnistError::Size(p, r, c) => {
                write!(f, "{}: images are {r}x{c}, expected 28x28", p.display())
            }
            MnistError::Counts(i, l) => write!(f, "{i} images but {l} labels"),
            MnistError::Label(i, l) => write!(f, "label {i} is {l}, not a digit"),
        }
    }
}

impl std::error::Error for MnistError {}

/// The directory of the data files.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn gunzip(path: &Path) -> Result<Vec<u8>, MnistError> {
    let bytes = std::fs::read(path).map_err(|e| MnistError::Io(path.to_path_buf(), e))?;
    let mut out = Vec::new();
    GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| MnistError::Io(path.to_path_buf(), e))?;
    Ok(out)
}

/// Reads `{prefix}-images-idx3-ubyte.gz` and `{prefix}-labels-idx1-ubyte.gz` from `dir`.
pub fn load(dir: &Path, prefix: &str) -> Result<Set, MnistError> {
    let images_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
    let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
    let images = idx::read_images(&gunzip(&images_path)?)
        .map_err(|e| MnistError::Idx(images_path.clone(), e))?;
    let labels = idx::read_labels(&gunzip(&labels_path)?)
        .map_err(|e| MnistError::Idx(labels_path.clone(), e))?;
    decode(&images, &labels).map_err(|e| match e {
        MnistError::Size(_, r, c) => MnistError::Size(images_path, r, c),
        other => other,
    })
}

/// Images scaled to `[0, 1]` with their labels, checked.
pub fn decode(images: &idx::Images, labels: &[u8]) -> Result<Set, MnistError> {
    if (images.rows, images.cols) != (28, 28) {
        return Err(MnistError::Size(PathBuf::new(), images.rows, images.cols));
    }
    if images.count() != labels.len() {
        return Err(MnistError::Counts(images.count(), labels.len()));
    }
    let mut set = Set {
        images: Vec::with_capacity(labels.len()),
        labels: Vec::with_capacity(labels.len()),
    };
    for (i, &label) in labels.iter().enumerate() {
        if label > 9 {
            return Err(MnistError::Label(i, label));
        }
        let mut image = [[[0.0; 28]; 28]; 1];
        if let Some(pixels) = images.get(i) {
            for (v, p) in image[0].as_flattened_mut().iter_mut().zip(pixels) {
                *v = f32::from(*p) / 255.0;
            }
        }
        set.images.push(image);
        set.labels.push(usize::from(label));
    }
    Ok(set)
}
