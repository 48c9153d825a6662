use super::{parse, summary, Kind, Memory, Shape};
use quote::quote;

fn lenet() -> proc_macro2::TokenStream {
    quote! {
        pub struct LeNet5 {
            c1: conv!(kernel = 5x5, out_channels = 6, padding = same),
            a1: relu,
            p1: maxpool!(2x2),
            c2: conv!(kernel = 5x5, out_channels = 16),
            a2: relu,
            p2: maxpool!(2x2),
            flat: flatten,
            f1: dense!(120),
            a3: relu,
            f2: dense!(84),
            a4: relu,
            f3: dense!(10),
        }
    }
}

fn error(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    match parse(attr, item) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn lenet5_shapes_are_inferred_layer_by_layer() {
    let n = parse(quote!(input = 1x28x28), lenet()).expect("valid");
    let shapes: Vec<String> = n.layers.iter().map(|l| l.output.text()).collect();
    assert_eq!(
        shapes,
        [
            "6x28x28", "6x28x28", "6x14x14", "16x10x10", "16x10x10", "16x5x5", "400", "120", "120",
            "84", "84", "10"
        ]
    );
    assert_eq!(n.output(), Shape::Flat(10));
    assert!(matches!(
        n.layers[7].kind,
        Kind::Dense {
            inputs: 400,
            outputs: 120
        }
    ));
}

#[test]
fn lenet5_memory_and_cost() {
    let n = parse(quote!(input = 1x28x28), lenet()).expect("valid");
    let m = Memory::of(&n);
    // 6*25+6 + 16*150+16 + 400*120+120 + 120*84+84 + 84*10+10 parameters, 4 bytes each.
    assert_eq!(m.parameter_bytes, 61_706 * 4);
    // Largest input plus output: the first max pool, 6x28x28 in, 6x14x14 out and as many
    // window indices (the ReLUs work in place).
    assert_eq!(m.inference_bytes, (4704 + 1176) * 4 + 1176 * 4);
    // 28x28 same 5x5 1->6 without padding taps, 14x14 -> 10x10 6->16, and the dense layers.
    let conv1: usize = (0..28)
        .map(|i: usize| (i.min(2) + 3).min(28 - i + 2).min(5))
        .sum::<usize>()
        .pow(2)
        * 6;
    assert_eq!(
        m.inference_macs,
        conv1 + 100 * 16 * 150 + 48_000 + 10_080 + 840
    );
    // Training, layer by layer: c1 forward and dL/dk (its dL/dx is not computed: the code is
    // cut to dL/dk and dL/db), c2 forward, dL/dk and dL/dx, each dense layer's forward, dL/dw
    // and dL/dx, then one multiply-add per parameter for the step of SGD.
    let c2 = 100 * 16 * 150;
    let dense = [400 * 120, 120 * 84, 84 * 10];
    let training = 2 * conv1 + 3 * c2 + 3 * dense.iter().sum::<usize>() + 61_706;
    assert_eq!(m.training_macs, training);
}

#[test]
fn a_layer_that_does_not_fit_names_the_layer_and_the_shapes() {
    let item = quote! {
        struct Net { c1: conv!(kernel = 5x5, out_channels = 2), p: maxpool!(3x3), f: flatten, d: dense!(2) }
    };
    let e = error(quote!(input = 1x6x6), item);
    assert!(e.contains("layer `p` (input 2x2x2)"), "{e}");
    assert!(e.contains("3x3"), "{e}");
}

#[test]
fn conv_options_go_through_the_conv2d_validation() {
    let item = quote! {
        struct Net { c1: conv!(kernel = 7x7, out_channels = 2), f: flatten, d: dense!(2) }
    };
    let e = error(quote!(input = 1x5x5), item);
    assert!(e.starts_with("layer `c1` (input 1x5x5): "), "{e}");
    let item = quote! { struct Net { c1: conv!(kernal = 3x3, out_channels = 2), f: flatten, d: dense!(2) } };
    let e = error(quote!(input = 1x5x5), item);
    assert!(e.contains("did you mean `kernel`"), "{e}");
    let item = quote! { struct Net { c1: conv!(kernel = 3x3, out_channels = 2, in_channels = 1), f: flatten, d: dense!(2) } };
    let e = error(quote!(input = 1x5x5), item);
    assert!(e.contains("inferred"), "{e}");
}

#[test]
fn kind_errors_are_clear() {
    let e = error(
        quote!(input = 1x4x4),
        quote! { struct Net { d: dense!(2) } },
    );
    assert!(e.contains("add `flatten` before it"), "{e}");
    let e = error(
        quote!(input = 1x4x4),
        quote! { struct Net { f: flatten, d: dens!(2) } },
    );
    assert!(
        e.contains("unknown layer `dens`") && e.contains("did you mean `dense`"),
        "{e}"
    );
    let e = error(
        quote!(input = 1x4x4),
        quote! { struct Net { f: flatten, d: dense!(1) } },
    );
    assert!(e.contains("at least 2 classes"), "{e}");
    let e = error(
        quote!(input = 1x4x4),
        quote! { struct Net { c: conv!(kernel = 3x3, out_channels = 2), a: relu } },
    );
    assert!(e.contains("end with `flatten`"), "{e}");
    let e = error(
        quote!(inptu = 1x4x4),
        quote! { struct Net { f: flatten, d: dense!(2) } },
    );
    assert!(e.contains("did you mean `input`"), "{e}");
    let e = error(
        quote!(input = 1x0x4),
        quote! { struct Net { f: flatten, d: dense!(2) } },
    );
    assert!(e.contains("at least one channel, row and column"), "{e}");
    let e = error(quote!(input = 4x4), quote! { struct Net; });
    assert!(e.contains("one field per layer"), "{e}");
}

#[test]
fn the_summary_holds_every_layer_and_the_memory_figures() {
    let n = parse(quote!(input = 1x28x28), lenet()).expect("valid");
    let s = summary(&n);
    let m = Memory::of(&n);
    for l in &n.layers {
        assert!(s.contains(&format!("| `{}` |", l.name)), "{}: {s}", l.name);
    }
    for (what, v) in [
        ("parameters", m.parameter_bytes),
        ("inference (peak activations)", m.inference_bytes),
        ("training workspace", m.workspace_bytes),
    ] {
        assert!(s.contains(&format!("| {what} | {v} |")), "{what}: {s}");
    }
    assert!(s.contains(&format!("{} multiply-adds per inference", m.inference_macs)));
}

#[test]
fn sizes_that_overflow_or_exceed_the_limit_are_errors() {
    let item = quote! { struct Net { f: flatten, d: dense!(10) } };
    let e = error(quote!(input = 100000000x100000000x100000000), item.clone());
    assert!(e.contains("holds more than 20000000 elements"), "{e}");
    let e = error(quote!(input = 18446744073709551615x2x2), item);
    assert!(e.contains("holds more than"), "{e}");
    let item = quote! { struct Net { f: flatten, d: dense!(100000) } };
    let e = error(quote!(input = 1x100x100), item);
    assert!(
        e.contains("10000 -> 100000 needs 1000000000 weights"),
        "{e}"
    );
}
