//! Companion calls in the symbolic machine: the one-row layer executed by its own derivation.

use super::super::{leaf, times, Fault, Kind};
use super::Machine;
use crate::derive::{Derivation, Product};
use crate::ir::{Array, KernelLayout, Place};

impl Machine<'_> {
    /// Checks that the local `n` has a value the code may read (an argument of a companion
    /// call).
    fn argument(&self, n: usize) -> Result<(), Fault> {
        self.source(&Place {
            array: Array::Local(n),
            index: Vec::new(),
        })
        .map(|_| ())
    }

    pub(super) fn row_forward(
        &mut self,
        window: usize,
        out: usize,
        row: &Derivation,
    ) -> Result<(), Fault> {
        self.argument(window)?;
        let mut outputs = Vec::with_capacity(row.forward().len());
        for (ru, products) in row.forward().iter().enumerate() {
            let mut sum = vec![leaf(Kind::B, row.u_at(ru).c)];
            for &Product(wx, k) in products {
                times(
                    &self.locals[window][wx as usize],
                    leaf(Kind::K, k as usize),
                    &mut sum,
                )?;
            }
            outputs.push(sum);
        }
        self.store(out, outputs)
    }

    pub(super) fn row_backward(
        &mut self,
        [window, delta, dx, dk, db]: [usize; 5],
        row: &Derivation,
    ) -> Result<(), Fault> {
        self.argument(window)?;
        self.argument(delta)?;
        let (w, d) = (&self.locals[window], &self.locals[delta]);
        let mut dxs = Vec::with_capacity(row.dx().len());
        for products in row.dx().iter() {
            let mut sum = Vec::new();
            for &Product(du, k) in products {
                times(&d[du as usize], leaf(Kind::K, k as usize), &mut sum)?;
            }
            dxs.push(sum);
        }
        let g = row.geometry();
        let ([kh, kw], ci, co) = (g.kernel(), g.in_channels(), g.out_channels());
        let mut dks = vec![Vec::new(); row.dk().len()];
        for (k, products) in row.dk().iter().enumerate() {
            let mut sum = Vec::new();
            for &Product(du, wx) in products {
                for &t in &d[du as usize] {
                    times(&w[wx as usize], t, &mut sum)?;
                }
            }
            let at = match self.program.layouts.row_dk {
                KernelLayout::Kernel => k,
                KernelLayout::OutputChannelsInner => {
                    let (o, rest) = (k / (ci * kh * kw), k % (ci * kh * kw));
                    rest * co + o
                }
            };
            dks[at] = sum;
        }
        let dbs = row
            .db()
            .iter()
            .map(|products| {
                products
                    .iter()
                    .flat_map(|&Product(du, _)| d[du as usize].iter().copied())
                    .collect()
            })
            .collect();
        self.store(dx, dxs)?;
        self.store(dk, dks)?;
        self.store(db, dbs)
    }
}
