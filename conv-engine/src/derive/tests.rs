//! The derivation against tables and equations written from the textbook formulas.

use super::*;
use crate::{GeometrySpec, Padding};

fn plain(input: [usize; 2], kernel: [usize; 2]) -> Derivation {
    Derivation::new(&GeometrySpec::new(input, kernel).resolve().unwrap())
}

fn px(row: usize, col: usize) -> Pixel {
    Pixel { c: 0, row, col }
}

fn tap(row: usize, col: usize) -> Tap {
    Tap {
        o: 0,
        c: 0,
        row,
        col,
    }
}

/// `du[i][j]/dx[p][q] = k[p-i][q-j]` when `0 <= p-i < KH` and `0 <= q-j < KW`, else 0: the
/// stride-1 VALID formula, checked for every cell of the table.
fn assert_textbook_table(d: &Derivation, [h, w]: [usize; 2], [kh, kw]: [usize; 2]) {
    let [oh, ow] = [h - kh + 1, w - kw + 1];
    for p in 0..h {
        for q in 0..w {
            for i in 0..oh {
                for j in 0..ow {
                    let want =
                        (p >= i && p - i < kh && q >= j && q - j < kw).then(|| tap(p - i, q - j));
                    assert_eq!(
                        d.du_dx(px(i, j), px(p, q)),
                        want,
                        "du[{i}][{j}]/dx[{p}][{q}]"
                    );
                    let want_x = (i + kh > p && j + kw > q && p >= i && q >= j).then(|| px(p, q));
                    if let Some(t) = want {
                        assert_eq!(d.du_dk(px(i, j), t), want_x);
                    }
                }
            }
        }
    }
}

#[test]
fn textbook_jacobian_matches_the_formula_cell_by_cell() {
    let d = plain([5, 5], [3, 3]);
    assert_textbook_table(&d, [5, 5], [3, 3]);
    // 9 outputs x 9 taps.
    assert_eq!(d.jacobian_x().len(), 81);
    assert_eq!(d.terms(), 3 * 81);
}

#[test]
fn textbook_corner_and_centre_equations() {
    let d = plain([5, 5], [3, 3]);
    // dL/dx[0][0] = delta[0][0] * k[0][0]: only u[0][0] reads x[0][0].
    assert_eq!(d.dx().get(0), &[Product(0, 0)]);
    // dL/dx[2][2] (flat 12) = sum over all nine outputs: delta[i][j] * k[2-i][2-j].
    let centre: Vec<_> = d
        .dx()
        .get(12)
        .iter()
        .map(|p| (d.u_at(p.0 as usize), d.k_at(p.1 as usize)))
        .collect();
    let want: Vec<_> = (0..3)
        .flat_map(|i| (0..3).map(move |j| (px(i, j), tap(2 - i, 2 - j))))
        .collect();
    assert_eq!(centre, want);
    // dL/dk[1][2] (flat 5) = sum_{i,j} delta[i][j] * x[i+1][j+2].
    let dk: Vec<_> = d
        .dk()
        .get(5)
        .iter()
        .map(|p| (d.u_at(p.0 as usize), d.x_at(p.1 as usize)))
        .collect();
    let want: Vec<_> = (0..3)
        .flat_map(|i| (0..3).map(move |j| (px(i, j), px(i + 1, j + 2))))
        .collect();
    assert_eq!(dk, want);
    // dL/db = sum of all nine deltas.
    assert_eq!(
        d.db().get(0).iter().map(|p| p.0).collect::<Vec<_>>(),
        (0..9).collect::<Vec<u32>>()
    );
}

#[test]
fn three_by_three_with_two_by_two_written_out() {
    // x 3x3, k 2x2, u 2x2. Written by hand from u[i][j] = sum x[i+a][j+b] k[a][b]:
    // dL/dx[0][1] = d00*k01 + d01*k00; dL/dx[1][1] = d00*k11 + d01*k10 + d10*k01 + d11*k00.
    let d = plain([3, 3], [2, 2]);
    let dx =
        |flat: usize| -> Vec<(u32, u32)> { d.dx().get(flat).iter().map(|p| (p.0, p.1)).collect() };
    // flat u: d00=0 d01=1 d10=2 d11=3; flat k: k00=0 k01=1 k10=2 k11=3.
    assert_eq!(dx(1), vec![(0, 1), (1, 0)]);
    assert_eq!(dx(4), vec![(0, 3), (1, 2), (2, 1), (3, 0)]);
    assert_eq!(dx(8), vec![(3, 3)]);
}

#[test]
fn edge_shapes() {
    for (input, kernel) in [
        ([3, 3], [3, 3]),
        ([4, 6], [4, 6]),
        ([5, 5], [1, 1]),
        ([1, 9], [1, 4]),
        ([9, 1], [4, 1]),
        ([7, 6], [3, 2]),
        ([2, 2], [2, 1]),
    ] {
        let d = plain(input, kernel);
        assert_textbook_table(&d, input, kernel);
        let [oh, ow] = [input[0] - kernel[0] + 1, input[1] - kernel[1] + 1];
        assert_eq!(d.forward().len(), oh * ow);
        assert!(d.forward().iter().all(|s| s.len() == kernel[0] * kernel[1]));
    }
    // Kernel = input: one output, dL/dx[p][q] = delta * k[p][q].
    let d = plain([3, 3], [3, 3]);
    for x in 0..9 {
        assert_eq!(d.dx().get(x), &[Product(0, x as u32)]);
    }
}

#[test]
fn padding_reads_are_dropped_and_unread_inputs_get_no_terms() {
    let mut s = GeometrySpec::new([5, 5], [3, 3]);
    s.padding = Padding::Explicit {
        top: 1,
        bottom: 1,
        left: 1,
        right: 1,
    };
    let d = Derivation::new(&s.resolve().unwrap());
    // u[0][0] misses the top row and left column of taps: 4 products.
    assert_eq!(d.forward().get(0).len(), 4);
    let mut s = GeometrySpec::new([6, 6], [3, 3]);
    s.stride = [2, 2];
    let d = Derivation::new(&s.resolve().unwrap());
    // Output 2x2 reads rows/cols 0..=4 only: row 5 and column 5 of x get no gradient terms.
    for q in 0..6 {
        assert!(d.dx().get(5 * 6 + q).is_empty());
        assert!(d.dx().get(q * 6 + 5).is_empty());
    }
}
