use super::*;
use crate::{GeometrySpec, Padding};

fn geometries() -> Vec<crate::Geometry> {
    let mut out = Vec::new();
    for (input, kernel) in [
        ([5, 5], [3, 3]),
        ([7, 6], [3, 2]),
        ([1, 9], [1, 4]),
        ([4, 4], [4, 4]),
        ([6, 5], [1, 1]),
    ] {
        for stride in [[1, 1], [2, 1], [3, 2]] {
            for dilation in [[1, 1], [2, 1], [1, 2]] {
                for padding in [
                    Padding::Valid,
                    Padding::Same,
                    Padding::Explicit {
                        top: 1,
                        bottom: 0,
                        left: 2,
                        right: 1,
                    },
                ] {
                    for (in_channels, out_channels) in [(1, 1), (2, 3)] {
                        let spec = GeometrySpec {
                            input,
                            kernel,
                            stride,
                            dilation,
                            padding,
                            in_channels,
                            out_channels,
                        };
                        if let Ok(g) = spec.resolve() {
                            out.push(g);
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn chain_rule_equals_padded_rotated_form_for_every_option() {
    let all = geometries();
    assert!(all.len() > 200, "{} geometries", all.len());
    for g in all {
        let d = Derivation::new(&g);
        let proof = prove(&d).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        // dx and dk each hold every forward product once; db holds every delta once.
        assert_eq!(proof.products, 2 * g.nonzero_terms() + g.output_len());
    }
}

#[test]
fn a_wrong_term_is_rejected() {
    let g = GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap();
    let d = Derivation::new(&g);
    // Swap the kernel weight of one dL/dx product: k[0][0] -> k[0][1].
    let mut lists: Vec<Vec<Product>> = d.dx().iter().map(<[Product]>::to_vec).collect();
    lists[0][0].1 = 1;
    let wrong = Sums::from_lists(lists);
    let err = compare(PADDED, Gradient::Dx, &wrong, padded::dx(&g)).unwrap_err();
    assert_eq!((err.gradient, err.element), (Gradient::Dx, 0));
    assert!(err.to_string().starts_with("dL/dx element 0"), "{err}");
    // A missing term is rejected too.
    let mut lists: Vec<Vec<Product>> = d.dk().iter().map(<[Product]>::to_vec).collect();
    lists[4].pop();
    let err = compare(
        PADDED,
        Gradient::Dk,
        &Sums::from_lists(lists),
        padded::dk(&g),
    )
    .unwrap_err();
    assert_eq!((err.gradient, err.element), (Gradient::Dk, 4));
}
