//! The IDX reader against files written here byte by byte, each error variant, and random
//! bytes and truncations (no input panics).

use conv_runtime::nn::idx::{read_images, read_labels, IdxError, Images};
use proptest::prelude::*;

/// An image file: magic 0x00000803, then count, rows, cols as big-endian `u32`, then pixels.
fn image_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0x08, 0x03];
    for v in [count, rows, cols] {
        f.extend(v.to_be_bytes());
    }
    f.extend(pixels);
    f
}

/// A label file: magic 0x00000801, then count, then the labels.
fn label_file(labels: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0x08, 0x01];
    f.extend((labels.len() as u32).to_be_bytes());
    f.extend(labels);
    f
}

#[test]
fn round_trip() {
    let pixels: Vec<u8> = (0..3 * 2 * 4).map(|v| (v * 7) as u8).collect();
    let images = read_images(&image_file(3, 2, 4, &pixels)).unwrap();
    assert_eq!(
        images,
        Images {
            rows: 2,
            cols: 4,
            pixels: pixels.clone()
        }
    );
    assert_eq!(images.count(), 3);
    assert_eq!(images.get(0), Some(&pixels[..8]));
    assert_eq!(images.get(2), Some(&pixels[16..]));
    assert_eq!(images.get(3), None);
    assert_eq!(images.get(usize::MAX), None);

    assert_eq!(
        read_labels(&label_file(&[5, 0, 4, 1, 9])).unwrap(),
        [5, 0, 4, 1, 9]
    );
    assert_eq!(read_labels(&label_file(&[])).unwrap(), [] as [u8; 0]);
    assert_eq!(read_images(&image_file(0, 28, 28, &[])).unwrap().count(), 0);
}

/// `Images` built by hand with a zero or overflowing size: no division by zero, no panic.
#[test]
fn images_with_odd_fields() {
    let zero = Images {
        rows: 0,
        cols: 3,
        pixels: vec![1, 2],
    };
    assert_eq!((zero.count(), zero.get(0)), (0, None));
    let huge = Images {
        rows: usize::MAX,
        cols: 2,
        pixels: vec![1],
    };
    assert_eq!((huge.count(), huge.get(0)), (0, None));
}

#[test]
fn each_error() {
    assert_eq!(
        read_images(&[0, 0, 8]),
        Err(IdxError::TooShort {
            needed: 16,
            found: 3
        })
    );
    assert_eq!(
        read_images(&image_file(1, 1, 1, &[0])[..15]),
        Err(IdxError::TooShort {
            needed: 16,
            found: 15
        })
    );
    assert_eq!(
        read_labels(&[0, 0, 8, 1, 0, 0]),
        Err(IdxError::TooShort {
            needed: 8,
            found: 6
        })
    );
    // A label file given as images and the other way round.
    assert_eq!(
        read_images(&label_file(&[1; 20])),
        Err(IdxError::Magic {
            found: 2049,
            expected: 2051
        })
    );
    assert_eq!(
        read_labels(&image_file(1, 1, 1, &[0])),
        Err(IdxError::Magic {
            found: 2051,
            expected: 2049
        })
    );
    assert_eq!(
        read_images(&image_file(2, 2, 2, &[0; 7])),
        Err(IdxError::Truncated {
            expected: 8,
            found: 7
        })
    );
    assert_eq!(
        read_images(&image_file(2, 2, 2, &[0; 9])),
        Err(IdxError::Trailing {
            expected: 8,
            found: 9
        })
    );
    let mut labels = label_file(&[1, 2, 3]);
    labels.pop();
    assert_eq!(
        read_labels(&labels),
        Err(IdxError::Truncated {
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        read_images(&image_file(5, 0, 28, &[])),
        Err(IdxError::ZeroDimension { rows: 0, cols: 28 })
    );
    assert_eq!(
        read_images(&image_file(5, 28, 0, &[])),
        Err(IdxError::ZeroDimension { rows: 28, cols: 0 })
    );
    // u32::MAX³ exceeds even a 64-bit usize.
    let m = u32::MAX;
    assert_eq!(
        read_images(&image_file(m, m, m, &[])),
        Err(IdxError::Overflow {
            count: m,
            rows: m,
            cols: m
        })
    );
    let e: Box<dyn std::error::Error> = Box::new(IdxError::Magic {
        found: 1,
        expected: 2051,
    });
    assert_eq!(e.to_string(), "IDX magic number is 1, expected 2051");
}

proptest! {
    #[test]
    fn random_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = read_images(&bytes);
        let _ = read_labels(&bytes);
    }

    /// A random header after a valid magic: any outcome but a panic.
    #[test]
    fn random_headers_do_not_panic(
        dims in prop::array::uniform3(prop_oneof![0..4u32, any::<u32>()]),
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let _ = read_images(&image_file(dims[0], dims[1], dims[2], &tail));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend(dims[0].to_be_bytes());
        labels.extend(&tail);
        let _ = read_labels(&labels);
    }

    /// Every proper prefix of a valid file is an error; the whole file reads back.
    #[test]
    fn truncations_are_errors(
        (rows, cols, pixels) in (1..5u32, 1..5u32, 0..4usize).prop_flat_map(|(r, c, n)| {
            (Just(r), Just(c), prop::collection::vec(any::<u8>(), n * (r * c) as usize))
        }),
        cut in any::<prop::sample::Index>(),
    ) {
        let count = (pixels.len() / (rows * cols) as usize) as u32;
        let file = image_file(count, rows, cols, &pixels);
        let images = read_images(&file).unwrap();
        prop_assert_eq!(&images.pixels, &pixels);
        let cut = cut.index(file.len());
        prop_assert!(read_images(&file[..cut]).is_err());
        let labels = label_file(&pixels);
        prop_assert_eq!(read_labels(&labels).unwrap(), pixels.clone());
        prop_assert!(read_labels(&labels[..cut.min(labels.len() - 1)]).is_err());
    }
}
