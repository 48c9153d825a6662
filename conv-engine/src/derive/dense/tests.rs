//! The dense derivation against a 3 -> 2 layer written out by hand.

use super::*;

fn pairs(s: &Sums, element: usize) -> Vec<(u32, u32)> {
    s.get(element).iter().map(|p| (p.0, p.1)).collect()
}

#[test]
fn three_to_two_written_out() {
    // u[0] = b[0] + x0*w00 + x1*w01 + x2*w02, u[1] = b[1] + x0*w10 + x1*w11 + x2*w12.
    // Flat w: w00=0 w01=1 w02=2 w10=3 w11=4 w12=5.
    let d = Dense::new(3, 2);
    assert_eq!((d.inputs(), d.outputs()), (3, 2));
    assert_eq!(d.forward().len(), 2);
    assert_eq!(pairs(d.forward(), 0), vec![(0, 0), (1, 1), (2, 2)]);
    assert_eq!(pairs(d.forward(), 1), vec![(0, 3), (1, 4), (2, 5)]);
    // dL/dx[i] = d0*w0i + d1*w1i.
    assert_eq!(d.dx().len(), 3);
    assert_eq!(pairs(d.dx(), 0), vec![(0, 0), (1, 3)]);
    assert_eq!(pairs(d.dx(), 1), vec![(0, 1), (1, 4)]);
    assert_eq!(pairs(d.dx(), 2), vec![(0, 2), (1, 5)]);
    // dL/dw[o][i] = d_o * x_i.
    assert_eq!(d.dw().len(), 6);
    let dw: Vec<_> = (0..6).map(|w| pairs(d.dw(), w)).collect();
    assert_eq!(
        dw,
        vec![
            vec![(0, 0)],
            vec![(0, 1)],
            vec![(0, 2)],
            vec![(1, 0)],
            vec![(1, 1)],
            vec![(1, 2)],
        ]
    );
    // dL/db[o] = d_o.
    assert_eq!(pairs(d.db(), 0), vec![(0, 0)]);
    assert_eq!(pairs(d.db(), 1), vec![(1, 1)]);
    // Counts: 6 products in each of u, dL/dx, dL/dw.
    assert_eq!(
        (d.forward().terms(), d.dx().terms(), d.dw().terms()),
        (6, 6, 6)
    );
    assert_eq!(d.terms(), 18);
}

#[test]
fn jacobian_entries_of_three_to_two() {
    let d = Dense::new(3, 2);
    for o in 0..2 {
        for i in 0..3 {
            // du[o]/dx[i] = w[o][i].
            assert_eq!(d.du_dx(o, i), Some(Weight { o, i }));
            for o2 in 0..2 {
                // du[o]/dw[o2][i] = x[i] when o2 == o, else 0.
                let want = (o2 == o).then_some(i);
                assert_eq!(d.du_dw(o, Weight { o: o2, i }), want);
            }
        }
        for b in 0..2 {
            assert_eq!(d.du_db(o, b), usize::from(b == o));
        }
    }
    assert_eq!(d.du_dx(2, 0), None);
    assert_eq!(d.du_dw(0, Weight { o: 0, i: 3 }), None);
    assert_eq!(
        d.w_at(d.w_flat(Weight { o: 1, i: 2 })),
        Weight { o: 1, i: 2 }
    );
}

#[test]
fn counts_for_other_sizes() {
    for (n, m) in [(1, 1), (1, 4), (4, 1), (17, 5), (400, 120)] {
        let d = Dense::new(n, m);
        assert_eq!(d.forward().len(), m);
        assert!(d.forward().iter().all(|s| s.len() == n));
        assert_eq!(d.dx().len(), n);
        assert!(d.dx().iter().all(|s| s.len() == m));
        assert_eq!(d.dw().len(), n * m);
        assert!(d.dw().iter().all(|s| s.len() == 1));
        assert_eq!(d.db().len(), m);
        assert_eq!(d.terms(), 3 * n * m);
    }
}

#[test]
fn the_bias_of_each_output_is_its_own() {
    let d = Dense::new(4, 3);
    assert_eq!((0..3).map(|u| d.bias_of(u)).collect::<Vec<_>>(), [0, 1, 2]);
}
