//! The MNIST copy and its reader: the files are the ones the data note lists (sha256), the sets
//! are the sizes it gives, and a corrupt or truncated file is a typed error, never a panic.

use conv_examples_lenet::mnist::{self, MnistError};
use conv_runtime::nn::idx;
use sha2::{Digest, Sha256};
use std::io::Write;

#[test]
fn the_files_are_the_ones_the_note_lists() {
    let note = std::fs::read_to_string(mnist::data_dir().join("README.md")).expect("the note");
    let mut listed = 0;
    for line in note.lines() {
        let mut parts = line.split_whitespace();
        let (Some(sum), Some(file), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if sum.len() != 64 || !file.ends_with(".gz") {
            continue;
        }
        let bytes = std::fs::read(mnist::data_dir().join(file)).expect("a listed file");
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, sum, "{file}");
        listed += 1;
    }
    assert_eq!(listed, 4);
}

#[test]
fn the_sets_have_the_documented_sizes_and_every_digit() {
    let train = mnist::load(&mnist::data_dir(), "train").expect("readable");
    let test = mnist::load(&mnist::data_dir(), "test").expect("readable");
    assert_eq!((train.images.len(), test.images.len()), (8004, 1996));
    for set in [&train, &test] {
        for digit in 0..10 {
            assert!(set.labels.contains(&digit));
        }
        let max = set
            .images
            .iter()
            .flat_map(|i| i[0].iter().flatten())
            .fold(0.0f32, |a, b| a.max(*b));
        assert_eq!(max, 1.0);
    }
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

#[test]
fn corrupt_files_are_typed_errors() {
    let dir = std::env::temp_dir().join(format!("conv-mnist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).expect("writable");
    let images = |n: u32, rows: u32| {
        let mut b = header(idx::IMAGES_MAGIC, &[n, rows, 28]);
        b.resize(b.len() + (n * rows * 28) as usize, 7);
        b
    };
    let labels = |values: &[u8]| {
        let mut b = header(idx::LABELS_MAGIC, &[values.len() as u32]);
        b.extend_from_slice(values);
        b
    };

    // Not gzip at all.
    write("a-images-idx3-ubyte.gz", b"plain bytes");
    write("a-labels-idx1-ubyte.gz", &gz(&labels(&[1, 2])));
    assert!(matches!(mnist::load(&dir, "a"), Err(MnistError::Io(..))));
    // A truncated payload.
    let mut short = images(2, 28);
    short.truncate(short.len() - 5);
    write("b-images-idx3-ubyte.gz", &gz(&short));
    write("b-labels-idx1-ubyte.gz", &gz(&labels(&[1, 2])));
    assert!(matches!(
        mnist::load(&dir, "b"),
        Err(MnistError::Idx(_, idx::IdxError::Truncated { .. }))
    ));
    // Images that are not 28x28, counts that differ, a label that is not a digit.
    write("c-images-idx3-ubyte.gz", &gz(&images(2, 27)));
    write("c-labels-idx1-ubyte.gz", &gz(&labels(&[1, 2])));
    assert!(matches!(
        mnist::load(&dir, "c"),
        Err(MnistError::Size(_, 27, 28))
    ));
    write("d-images-idx3-ubyte.gz", &gz(&images(2, 28)));
    write("d-labels-idx1-ubyte.gz", &gz(&labels(&[1, 2, 3])));
    assert!(matches!(
        mnist::load(&dir, "d"),
        Err(MnistError::Counts(2, 3))
    ));
    write("e-images-idx3-ubyte.gz", &gz(&images(2, 28)));
    write("e-labels-idx1-ubyte.gz", &gz(&labels(&[1, 12])));
    assert!(matches!(
        mnist::load(&dir, "e"),
        Err(MnistError::Label(1, 12))
    ));
    // A missing file.
    assert!(matches!(
        mnist::load(&dir, "missing"),
        Err(MnistError::Io(..))
    ));
    // And a valid one reads.
    write("f-images-idx3-ubyte.gz", &gz(&images(2, 28)));
    write("f-labels-idx1-ubyte.gz", &gz(&labels(&[1, 9])));
    let set = mnist::load(&dir, "f").expect("valid");
    assert_eq!(set.labels, [1, 9]);
    assert_eq!(set.images[1][0][27][27], 7.0 / 255.0);
    let _ = std::fs::remove_dir_all(&dir);
}
