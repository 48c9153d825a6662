//! A `rows` layer's `backward` (and, beside the one over rows, its `forward`) at the layer
//! level, as loop IR ([`crate::ir`]), for layers the compile-time check evaluates whole and for
//! layers with many output channels whose partial sums fit (the plan's [`Dx::LayerRows`] and
//! [`Dx::LayerOverChannels`]): the padded copy of `x` (or `x` itself), the sums of every
//! gradient over the whole layer (`over_rows`: one padded input row at a time;
//! `over_channels`: every output channel at once per output position and tap), the crop of the
//! padded `dL/dx`; `forward`: rows of sums over the layer's output rows. Executing the IR
//! symbolically proves this code against the derivation (`emit::variants`), and it is lowered
//! in one place (`ir::lower`).
//!
//! Every array is zeroed where the code first needs it (`let mut s = [[0.0; OW]; KW];`, for
//! partial sums each time the body of the loop holding them starts), not at the top of the
//! function; operands and arrays are indexed in full where the code reads them
//! (`delta[o][i][j]`, not a row bound to a name).
//! Which loop counters pass through `core::hint::black_box` each form says (over rows, those
//! of loops over fewer than [`LANES`] channels, as in the companion, `emit::rows`).

mod forward;
mod over_channels;
mod over_rows;
#[cfg(test)]
pub(super) use over_rows::ROW_VECTOR;

use super::shape::Shapes;
use super::unroll::operands;
use crate::ir::vars::{A, B, C, I, J, O, P, Q};
use crate::ir::{Array, Counter, Expr, Index, Layouts, Local, Place, Program, Returns, Stmt, Var};
use crate::plan::{Blocks, Dx, LANES};
use crate::{ChannelLayout, Geometry, Spec};

fn v(var: Var) -> Index {
    Index::var(var)
}

/// A whole local (a scalar, or an array summed by `total`).
fn whole(local: usize) -> Place {
    Place {
        array: Array::Local(local),
        index: vec![],
    }
}

/// An element or a sub-array of a local.
fn local_at(local: usize, index: Vec<Index>) -> Place {
    Place {
        array: Array::Local(local),
        index,
    }
}

/// `let mut name = [[0.0; ..]; ..];` where the statement runs.
fn zero(local: usize) -> Stmt {
    Stmt::Fill {
        local,
        value: Expr::plain(vec![]),
    }
}

/// The sizes both forms use, from the geometry.
#[derive(Clone, Copy)]
struct Sizes {
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    hp: usize,
    wp: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    ci: usize,
    co: usize,
}

impl Sizes {
    fn new(g: &Geometry) -> Self {
        let ([oh, ow], [kh, kw], [hp, wp]) = (g.output(), g.kernel(), g.padded_input());
        let ([sh, sw], [dh, dw]) = (g.stride(), g.dilation());
        let (ci, co) = (g.in_channels(), g.out_channels());
        Self {
            oh,
            ow,
            kh,
            kw,
            hp,
            wp,
            sh,
            sw,
            dh,
            dw,
            ci,
            co,
        }
    }

    /// The padded input's row `i*SH + a*DH` that kernel row `a` reads for output row `i`.
    fn row(&self) -> Index {
        Index::at(0).plus(I, self.sh).plus(A, self.dh)
    }
}

/// A program being built: its locals and statements.
struct Layer<'a> {
    g: Geometry,
    s: Sizes,
    shapes: &'a Shapes,
    channels: bool,
    locals: Vec<Local>,
    body: Vec<Stmt>,
}

impl<'a> Layer<'a> {
    fn new(spec: &Spec, shapes: &'a Shapes) -> Self {
        Self {
            g: spec.geometry,
            s: Sizes::new(&spec.geometry),
            shapes,
            channels: spec.layout == ChannelLayout::ChannelFirst,
            locals: Vec::new(),
            body: Vec::new(),
        }
    }

    fn local_dims(&self, local: usize) -> &[usize] {
        &self.locals[local].dims
    }

    fn local(&mut self, local: Local) -> usize {
        self.locals.push(local);
        self.locals.len() - 1
    }

    /// A local zeroed where the code first needs it (`let mut name = [[0.0; ..]; ..];`, the
    /// next statement of the body), not at the top of the function: zeroed at the top, the
    /// digits layer's locals made its `backward` slower.
    fn zeroed(&mut self, name: &str, dims: Vec<usize>) -> usize {
        let local = self.local(Local::bound(name, dims));
        self.body.push(zero(local));
        local
    }

    /// `array[channel][rest..]` (no channel index for plain layers).
    fn at(&self, array: Array, channel: Index, rest: Vec<Index>) -> Place {
        let channel = self.channels.then_some(channel);
        let index = channel.into_iter().chain(rest).collect();
        Place { array, index }
    }

    /// `array[o][c][a][b]` of an array shaped like the kernel (`[a][b]` for plain layers).
    fn kernel(&self, array: Array, [o, c, a, b]: [Index; 4]) -> Place {
        let index = match self.channels {
            true => vec![o, c, a, b],
            false => vec![a, b],
        };
        Place { array, index }
    }

    /// `[channels, rows, cols]` (no channel axis for plain layers).
    fn planes(&self, channels: usize, rows: usize, cols: usize) -> Vec<usize> {
        let channels = self.channels.then_some(channels);
        channels.into_iter().chain([rows, cols]).collect()
    }

    /// `body` in a loop over `n` channels (its counter opaque below [`LANES`] channels), or
    /// alone for plain layers.
    fn over(&self, var: Var, n: usize, body: Vec<Stmt>) -> Vec<Stmt> {
        match self.channels {
            true => vec![Stmt::counted(var, n, n < LANES, body)],
            false => body,
        }
    }

    fn padded(&self) -> bool {
        self.g.pads() != [0, 0, 0, 0]
    }

    /// Per input channel `c` (written out), `copy(c)` in loops over the input's positions
    /// `(p, q)`.
    fn per_input_channel(&self, copy: impl Fn(Index) -> Stmt) -> Vec<Stmt> {
        let [h, w] = self.g.input();
        let each = |c: usize| Stmt::each(P, h, vec![Stmt::each(Q, w, vec![copy(Index::at(c))])]);
        (0..self.s.ci).map(each).collect()
    }

    /// `xp`: `x` itself, or a zero-padded copy `width` columns wide (at least the padded
    /// input's) and the loops that fill it.
    fn padded_input(&mut self, width: usize) -> Array {
        if !self.padded() && width == self.s.wp {
            return Array::X;
        }
        let [t, _, l, _] = self.g.pads();
        let xp = self.zeroed("xp", self.planes(self.s.ci, self.s.hp, width));
        let xp = Array::Local(xp);
        let copies = self.per_input_channel(|c| {
            let to = self.at(xp, c.clone(), vec![v(P).offset(t), v(Q).offset(l)]);
            Stmt::copy(to, self.at(Array::X, c, vec![v(P), v(Q)]))
        });
        self.body.extend(copies);
        xp
    }

    /// The program built, returning `returns`.
    fn program(self, returns: Returns) -> Program {
        Program {
            operands: operands(self.shapes),
            named: Vec::new(),
            locals: self.locals,
            body: self.body,
            layouts: Layouts::default(),
            returns,
        }
    }

    /// `block(self, n, first)` for the output channels two at a time (`n = 2` from `first =
    /// o`, in a loop over `o` with an opaque counter), then the last one alone (`n = 1`) where
    /// their count is odd; once, alone, for plain layers.
    fn over_channel_pairs(&mut self, block: impl FnMut(&mut Self, usize, Index) -> Vec<Stmt>) {
        self.over_channel_groups(2, block);
    }

    /// `block(self, n, first)` for the output channels `size` at a time (`n = size` from
    /// `first = o`, in a loop over `o` with an opaque counter), then the rest together (`n`
    /// below `size`); once, alone, for plain layers.
    fn over_channel_groups(
        &mut self,
        size: usize,
        mut block: impl FnMut(&mut Self, usize, Index) -> Vec<Stmt>,
    ) {
        let co = self.s.co;
        let grouped = match self.channels {
            true => co - co % size,
            false => 0,
        };
        if grouped > 0 {
            let body = block(self, size, v(O));
            self.body.push(Stmt::Loop {
                var: O,
                extent: grouped,
                step: size,
                counter: Counter::Opaque,
                body,
            });
        }
        if grouped < co {
            let body = block(self, co - grouped, Index::at(grouped));
            self.body.extend(body);
        }
    }

    /// `dL/dx`: the padded `dxp` cropped, or `dxp` itself.
    fn crop(&mut self, dxp: usize) -> usize {
        if !self.padded() {
            return dxp;
        }
        let [t, _, l, _] = self.g.pads();
        let dx = self.zeroed("dx", self.shapes.x.dims().to_vec());
        let crops = self.per_input_channel(|c| {
            let from = self.at(
                Array::Local(dxp),
                c.clone(),
                vec![v(P).offset(t), v(Q).offset(l)],
            );
            Stmt::copy(self.at(Array::Local(dx), c, vec![v(P), v(Q)]), from)
        });
        self.body.extend(crops);
        dx
    }
}

/// The layer's `backward` at the layer level (`dx` is [`Dx::LayerRows`] or
/// [`Dx::LayerOverChannels`]); `blocks` sizes [`Dx::LayerRows`]'s passes of `dL/dk`.
pub(super) fn backward(spec: &Spec, shapes: &Shapes, dx: Dx, blocks: Blocks) -> Program {
    let mut layer = Layer::new(spec, shapes);
    let (dxp, dk, db) = match dx {
        Dx::LayerOverChannels => {
            let xp = layer.padded_input(layer.s.wp);
            layer.over_channels(xp)
        }
        _ => layer.over_rows(blocks.taps_per_pass()),
    };
    let dx = layer.crop(dxp);
    layer.program(Returns::Backward { dx, dk, db })
}

/// The layer's `forward` at the layer level ([`Forward::LayerRows`](crate::plan::Forward::LayerRows)),
/// as many output channels per pass over a row as `blocks` keeps.
pub(super) fn forward(spec: &Spec, shapes: &Shapes, blocks: Blocks) -> Program {
    let mut layer = Layer::new(spec, shapes);
    let u = layer.forward_over_rows(blocks);
    layer.program(Returns::Forward { u })
}
