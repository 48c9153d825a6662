//! The memory constants of `#[network]` against the compiler's own sizes: `PARAMETER_BYTES`
//! and `WORKSPACE_BYTES` against `size_of` of the generated types, `INFERENCE_BYTES` against
//! `size_of` of each layer's input and output written out here by hand, and the trait's
//! `MEMORY` against the inherent constants. For LeNet-5 (`f32`, as `conv-examples/lenet`
//! defines it) and an `f64` network whose one max pool keeps an odd number of `u32` window
//! indices, so that the workspace ends in padding up to the `f64` alignment.

use conv_examples_lenet::{LeNet5, LeNet5Workspace};
use conv_runtime::network;
use conv_runtime::network::{Memory, Network};
use std::mem::size_of;

/// f64, 1x7x7 -> conv 2x2 -> 3x6x6 -> tanh -> max pool 2x2 -> 3x3x3 (27 indices) -> 27 -> 5.
#[network(input = 1x7x7, scalar = f64)]
struct Odd {
    c1: conv!(kernel = 2x2, out_channels = 3),
    a1: tanh,
    p1: maxpool!(2x2),
    flat: flatten,
    d1: dense!(5),
}

/// The inherent constants, as a `Memory`.
macro_rules! inherent {
    ($net:ty) => {
        Memory {
            parameter_bytes: <$net>::PARAMETER_BYTES,
            inference_bytes: <$net>::INFERENCE_BYTES,
            workspace_bytes: <$net>::WORKSPACE_BYTES,
            backward_bytes: <$net>::BACKWARD_BYTES,
            batch_training_bytes: <$net>::BATCH_TRAINING_BYTES,
            fused_training_bytes: <$net>::FUSED_TRAINING_BYTES,
            inference_macs: <$net>::INFERENCE_MACS,
            training_macs: <$net>::TRAINING_MACS,
        }
    };
}

/// `size_of` of a layer's input plus its output (plus, for a max pool, its window indices,
/// which a forward pass holds too).
fn pair<I, O>() -> usize {
    size_of::<I>() + size_of::<O>()
}

#[test]
fn lenet5_parameters_and_workspace_are_their_types_sizes() {
    assert_eq!(LeNet5::PARAMETER_BYTES, size_of::<LeNet5>());
    assert_eq!(LeNet5::WORKSPACE_BYTES, size_of::<LeNet5Workspace>());
    // 61,706 parameters of 4 bytes.
    assert_eq!(LeNet5::PARAMETER_BYTES, 61_706 * 4);
}

#[test]
fn lenet5_trait_memory_is_the_inherent_constants() {
    assert_eq!(<LeNet5 as Network>::MEMORY, inherent!(LeNet5));
}

#[test]
fn lenet5_inference_bytes_are_the_largest_layer_input_and_output() {
    type T = f32;
    let layers = [
        pair::<[[[T; 28]; 28]; 1], [[[T; 28]; 28]; 6]>(), // c1
        size_of::<[[[T; 28]; 28]; 6]>(),                  // a1, in place
        pair::<[[[T; 28]; 28]; 6], [[[T; 14]; 14]; 6]>() + size_of::<[[[u32; 14]; 14]; 6]>(), // p1
        pair::<[[[T; 14]; 14]; 6], [[[T; 10]; 10]; 16]>(), // c2
        size_of::<[[[T; 10]; 10]; 16]>(),                 // a2, in place
        pair::<[[[T; 10]; 10]; 16], [[[T; 5]; 5]; 16]>() + size_of::<[[[u32; 5]; 5]; 16]>(), // p2
        pair::<[[[T; 5]; 5]; 16], [T; 400]>(),            // flat
        pair::<[T; 400], [T; 120]>(),                     // f1
        size_of::<[T; 120]>(),                            // a3, in place
        pair::<[T; 120], [T; 84]>(),                      // f2
        size_of::<[T; 84]>(),                             // a4, in place
        pair::<[T; 84], [T; 10]>(),                       // f3
    ];
    assert_eq!(Some(LeNet5::INFERENCE_BYTES), layers.into_iter().max());
}

#[test]
fn lenet5_backward_bytes_are_the_largest_layer_gradients() {
    type T = f32;
    // The gradient each layer takes and gives (one array for an activation, in place), and a
    // convolution's `dL/dk` and `dL/db` (a dense layer adds its own into the gradient buffer or
    // the parameters: no array of its own).
    let conv = |dk: usize, db: usize| dk + db;
    let layers = [
        pair::<[[[T; 28]; 28]; 1], [[[T; 28]; 28]; 6]>()
            + conv(size_of::<[[[[T; 5]; 5]; 1]; 6]>(), size_of::<[T; 6]>()), // c1
        size_of::<[[[T; 28]; 28]; 6]>(), // a1, in place
        pair::<[[[T; 28]; 28]; 6], [[[T; 14]; 14]; 6]>(), // p1
        pair::<[[[T; 14]; 14]; 6], [[[T; 10]; 10]; 16]>()
            + conv(size_of::<[[[[T; 5]; 5]; 6]; 16]>(), size_of::<[T; 16]>()), // c2
        size_of::<[[[T; 10]; 10]; 16]>(), // a2, in place
        pair::<[[[T; 10]; 10]; 16], [[[T; 5]; 5]; 16]>(), // p2
        pair::<[[[T; 5]; 5]; 16], [T; 400]>(), // flat
        pair::<[T; 400], [T; 120]>(),    // f1
        size_of::<[T; 120]>(),           // a3, in place
        pair::<[T; 120], [T; 84]>(),     // f2
        size_of::<[T; 84]>(),            // a4, in place
        pair::<[T; 84], [T; 10]>(),      // f3
    ];
    assert_eq!(Some(LeNet5::BACKWARD_BYTES), layers.into_iter().max());
    assert_eq!(
        LeNet5::FUSED_TRAINING_BYTES,
        LeNet5::WORKSPACE_BYTES + LeNet5::BACKWARD_BYTES
    );
    assert_eq!(
        LeNet5::BATCH_TRAINING_BYTES,
        LeNet5::PARAMETER_BYTES + LeNet5::FUSED_TRAINING_BYTES
    );
}

#[test]
fn odd_f64_parameters_and_padded_workspace_are_their_types_sizes() {
    assert_eq!(Odd::PARAMETER_BYTES, size_of::<Odd>());
    assert_eq!(Odd::WORKSPACE_BYTES, size_of::<OddWorkspace>());
    // The workspace keeps what backward reads: a1's output (tanh, 3x6x6), p1's 27 window
    // indices, flat's output (d1's input) and dL/dinput (1x7x7). That is 1,580 bytes, not a
    // multiple of 8: the struct is padded to its f64 alignment.
    let fields = size_of::<[[[f64; 6]; 6]; 3]>()
        + size_of::<[[[u32; 3]; 3]; 3]>()
        + size_of::<[f64; 27]>()
        + size_of::<[[[f64; 7]; 7]; 1]>();
    assert_eq!(fields, 1580);
    assert_eq!(size_of::<OddWorkspace>(), fields.next_multiple_of(8));
    assert_eq!(Odd::WORKSPACE_BYTES, 1584);
}

#[test]
fn odd_f64_trait_memory_is_the_inherent_constants() {
    assert_eq!(<Odd as Network>::MEMORY, inherent!(Odd));
}

#[test]
fn odd_f64_inference_bytes_are_the_largest_layer_input_and_output() {
    type T = f64;
    let layers = [
        pair::<[[[T; 7]; 7]; 1], [[[T; 6]; 6]; 3]>(), // c1
        size_of::<[[[T; 6]; 6]; 3]>(),                // a1, in place
        pair::<[[[T; 6]; 6]; 3], [[[T; 3]; 3]; 3]>() + size_of::<[[[u32; 3]; 3]; 3]>(), // p1
        pair::<[[[T; 3]; 3]; 3], [T; 27]>(),          // flat
        pair::<[T; 27], [T; 5]>(),                    // d1
    ];
    assert_eq!(Some(Odd::INFERENCE_BYTES), layers.into_iter().max());
}
