//! An SVG picture of the Jacobian `∂u/∂x`: rows are input elements `x`, columns output
//! elements `u` (row-major, channel first), and every nonzero entry is coloured by the kernel
//! weight it equals.
//!
//! - Up to [`MAX_CELLS_AXIS`] rows and columns every entry is one `<rect class="cell">` with a
//!   `<title>` tooltip (`∂u1,1/∂x1,1 = k1,1`).
//! - Beyond, the matrix is downscaled: each nonzero block (one input row by one output row) is a
//!   grey `<rect class="block">`, and inside it each diagonal run of entries holding the same
//!   weight is one coloured `<line class="run">`. The caption says which drawing was made.
//!
//! Labels are 1-based, as in the textbook and the text renderers. The other layer kinds'
//! Jacobians, given entry by entry, are drawn on the same frame, grid and axes by [`matrix`].

mod axes;
mod canvas;
pub(super) mod matrix;
mod palette;

use crate::derive::{Derivation, JacobianEntry, Pixel, Tap};
use axes::{axes, element_plain};
use canvas::{escape, Canvas};
use palette::{legend, Palette, LEGEND_MAX};
use std::collections::BTreeMap;

/// Most rows or columns drawn one cell at a time.
pub const MAX_CELLS_AXIS: usize = 256;

/// Side of the matrix area, in pixels, that the cell size aims for.
const TARGET: f64 = 720.0;
/// Space left of and above the matrix, for labels and titles.
const LEFT: f64 = 90.0;
const TOP: f64 = 140.0;
/// Smallest gap between two axis labels, in pixels.
const LABEL_GAP: f64 = 12.0;

/// The matrix's placement: element `(row, col)` lies at `(LEFT + col*s, TOP + row*s)`.
struct Frame {
    rows: usize,
    cols: usize,
    /// Side of one cell, in pixels (below 1 when downscaled).
    s: f64,
    /// Input image: `[channels, H, W]`; output: `[channels, OH, OW]`.
    x_shape: [usize; 3],
    u_shape: [usize; 3],
    /// The rows' and the columns' symbols (`x`, `u`).
    symbols: [&'static str; 2],
    /// Whether the rows' and the columns' elements are a vector's (one index, shape `[1, 1,
    /// n]`) rather than an image's.
    vectors: [bool; 2],
}

impl Frame {
    fn width(&self) -> f64 {
        self.cols as f64 * self.s
    }
    fn height(&self) -> f64 {
        self.rows as f64 * self.s
    }
    fn x_flat(&self, p: Pixel) -> usize {
        flat(self.x_shape, p)
    }
    fn u_flat(&self, p: Pixel) -> usize {
        flat(self.u_shape, p)
    }
    /// Whether either side has several channels (labels then name the channel).
    fn channels(&self) -> bool {
        self.x_shape[0] > 1 || self.u_shape[0] > 1
    }
    /// An image frame (`x` by `u`) of `rows` by `cols` cells of side `s`.
    fn images(rows: usize, cols: usize, s: f64, x_shape: [usize; 3], u_shape: [usize; 3]) -> Self {
        Frame {
            rows,
            cols,
            s,
            x_shape,
            u_shape,
            symbols: ["x", "u"],
            vectors: [false, false],
        }
    }
}

/// The flat (row-major, channel first) index of `p` in an image of `[channels, H, W]`.
pub(crate) fn flat([_, h, w]: [usize; 3], p: Pixel) -> usize {
    (p.c * h + p.row) * w + p.col
}

/// Whether a matrix of `rows` by `cols` is drawn cell by cell (at most [`MAX_CELLS_AXIS`] of
/// each), and the side of a cell: whole pixels from 4 to 28 then, else below 1.
fn cell_size(rows: usize, cols: usize) -> (bool, f64) {
    let cells = rows <= MAX_CELLS_AXIS && cols <= MAX_CELLS_AXIS;
    let s = TARGET / rows.max(cols).max(1) as f64;
    match cells {
        true => (true, s.floor().clamp(4.0, 28.0)),
        false => (false, s),
    }
}

/// The picture of `d`'s `∂u/∂x`; `attribute` goes into the title.
pub fn render(d: &Derivation, attribute: &str) -> String {
    let g = d.geometry();
    let (rows, cols) = (g.input_len(), g.output_len());
    let (cells, s) = cell_size(rows, cols);
    let [h, w] = g.input();
    let [oh, ow] = g.output();
    let frame = Frame::images(
        rows,
        cols,
        s,
        [g.in_channels(), h, w],
        [g.out_channels(), oh, ow],
    );
    let palette = Palette::new(g.kernel(), g.in_channels(), g.out_channels());
    let entries = d.jacobian_x();
    let legend_rows = palette.len.min(LEGEND_MAX);
    let width = (LEFT + frame.width() + 40.0 + 110.0).max(760.0);
    let bottom = (TOP + frame.height()).max(TOP + 20.0 * legend_rows as f64 + 20.0);
    let height = bottom + 90.0;
    let mut c = Canvas::new(width, height);
    c.raw(&format!(
        "<title>Jacobian ∂u/∂x of #[conv2d({})]</title>\n",
        escape(attribute)
    ));
    header(&mut c, d, attribute, entries.len());
    grid(&mut c, &frame);
    let caption = if cells {
        draw_cells(&mut c, &frame, &palette, &entries);
        format!(
            "Every entry drawn: {} nonzero of {} cells ({} input × {} output elements). Row: x, \
             column: u; a cell is ∂u/∂x, coloured by the kernel weight it equals.",
            entries.len(),
            rows * cols,
            rows,
            cols
        )
    } else {
        let runs = draw_runs(&mut c, &frame, &palette, &entries);
        format!(
            "Downscaled: {rows} × {cols} cells are too many to draw one by one (more than \
             {MAX_CELLS_AXIS} rows or columns). Grey: a block of one input row × one output row \
             with nonzero entries; each coloured line is a diagonal run of entries holding the \
             same kernel weight ({runs} runs for {} nonzero entries).",
            entries.len()
        )
    };
    axes(&mut c, &frame, cells);
    legend(&mut c, &frame, &palette);
    c.wrapped_text(10.0, bottom + 30.0, width - 20.0, "caption", &caption);
    c.finish()
}

fn header(c: &mut Canvas, d: &Derivation, attribute: &str, nonzero: usize) {
    let g = d.geometry();
    c.text(
        10.0,
        22.0,
        "title",
        "start",
        &format!("Jacobian ∂u/∂x: {nonzero} nonzero entries"),
    );
    let attribute = format!("#[conv2d({attribute})]");
    c.text(10.0, 40.0, "subtitle", "start", &escape(&attribute));
    let [h, w] = g.input();
    let [oh, ow] = g.output();
    let [t, b, l, r] = g.pads();
    c.text(
        10.0,
        56.0,
        "subtitle",
        "start",
        &format!(
            "input {h}x{w}, kernel {}x{}, stride {}, dilation {}, pads (top {t}, bottom {b}, \
             left {l}, right {r}), channels {} → {}, output {oh}x{ow}",
            g.kernel()[0],
            g.kernel()[1],
            pair(g.stride()),
            pair(g.dilation()),
            g.in_channels(),
            g.out_channels()
        ),
    );
}

/// `2`, or `(2, 1)` when the two differ, as the attribute writes them.
fn pair([a, b]: [usize; 2]) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("({a}, {b})")
    }
}

/// Light lines between image rows, darker between channels.
fn grid(c: &mut Canvas, f: &Frame) {
    let (w, h) = (f.width(), f.height());
    c.raw(&format!(
        "<rect class=\"frame\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{w:.2}\" height=\"{h:.2}\" \
         fill=\"#fafafa\" stroke=\"#888\"/>\n"
    ));
    let [_, xh, xw] = f.x_shape;
    let [_, uh, uw] = f.u_shape;
    if (xw as f64 * f.s) >= 3.0 {
        for r in (xw..f.rows).step_by(xw) {
            let y = TOP + r as f64 * f.s;
            let channel = r % (xh * xw) == 0;
            c.line(LEFT, y, LEFT + w, y, "grid", grid_color(channel), 0.5);
        }
    }
    if (uw as f64 * f.s) >= 3.0 {
        for col in (uw..f.cols).step_by(uw) {
            let x = LEFT + col as f64 * f.s;
            let channel = col % (uh * uw) == 0;
            c.line(x, TOP, x, TOP + h, "grid", grid_color(channel), 0.5);
        }
    }
}

fn grid_color(channel: bool) -> &'static str {
    if channel {
        "#555"
    } else {
        "#ccc"
    }
}

/// One rect per nonzero entry.
fn draw_cells(c: &mut Canvas, f: &Frame, palette: &Palette, entries: &[JacobianEntry]) {
    let label_inside = f.s >= 22.0 && !palette.channels;
    for e in entries {
        let (x, y) = (
            LEFT + f.u_flat(e.u) as f64 * f.s,
            TOP + f.x_flat(e.x) as f64 * f.s,
        );
        let key = palette.key(e.k);
        let tip = format!(
            "∂{}/∂{} = {}",
            element_plain("u", f.u_shape, false, f.u_flat(e.u), palette.channels),
            element_plain("x", f.x_shape, false, f.x_flat(e.x), palette.channels),
            palette.plain(e.k)
        );
        c.raw(&format!(
            "<rect class=\"cell\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{s:.2}\" height=\"{s:.2}\" \
             fill=\"{}\" data-k=\"{key}\"><title>{tip}</title></rect>\n",
            palette.color(key),
            s = f.s
        ));
        if label_inside {
            let t = e.k;
            c.text(
                x + f.s / 2.0,
                y + f.s / 2.0 + 3.5,
                "cell-label",
                "middle",
                &format!("{},{}", t.row + 1, t.col + 1),
            );
        }
    }
}

/// A diagonal run: entries of one block holding one weight; the first and last, and how many.
struct Run {
    first: (usize, usize),
    last: (usize, usize),
    len: usize,
}

/// The runs of `entries`, keyed by (x block, u block, weight), a block being one image row of
/// one channel. Within a block and for one weight the output columns are consecutive.
fn collect_runs(f: &Frame, entries: &[JacobianEntry]) -> BTreeMap<(usize, usize, Tap), Run> {
    let mut runs: BTreeMap<(usize, usize, Tap), Run> = BTreeMap::new();
    let [_, _, xw] = f.x_shape;
    let [_, _, uw] = f.u_shape;
    for e in entries {
        let (r, col) = (f.x_flat(e.x), f.u_flat(e.u));
        let run = runs.entry((r / xw, col / uw, e.k)).or_insert(Run {
            first: (r, col),
            last: (r, col),
            len: 0,
        });
        run.first = run.first.min((r, col));
        run.last = run.last.max((r, col));
        run.len += 1;
    }
    runs
}

/// Grey nonzero blocks and one line per run; returns the number of runs.
fn draw_runs(c: &mut Canvas, f: &Frame, palette: &Palette, entries: &[JacobianEntry]) -> usize {
    let runs = collect_runs(f, entries);
    let [_, _, xw] = f.x_shape;
    let [_, _, uw] = f.u_shape;
    let mut blocks: Vec<(usize, usize)> = runs.keys().map(|&(a, b, _)| (a, b)).collect();
    blocks.dedup();
    for (br, bc) in blocks {
        c.raw(&format!(
            "<rect class=\"block\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" \
             fill=\"#e4e4e4\"/>\n",
            LEFT + (bc * uw) as f64 * f.s,
            TOP + (br * xw) as f64 * f.s,
            uw as f64 * f.s,
            xw as f64 * f.s
        ));
    }
    let stroke = f.s.max(1.2);
    for (&(_, _, k), run) in &runs {
        let at = |(r, col): (usize, usize)| {
            (
                LEFT + (col as f64 + 0.5) * f.s,
                TOP + (r as f64 + 0.5) * f.s,
            )
        };
        let ((x1, y1), (x2, y2)) = (at(run.first), at(run.last));
        let key = palette.key(k);
        c.raw(&format!(
            "<line class=\"run\" x1=\"{x1:.2}\" y1=\"{y1:.2}\" x2=\"{x2:.2}\" y2=\"{y2:.2}\" \
             stroke=\"{}\" stroke-width=\"{stroke:.2}\" stroke-linecap=\"square\" \
             data-k=\"{key}\"><title>{} ({} entries)</title></line>\n",
            palette.color(key),
            palette.plain(k),
            run.len
        ));
    }
    runs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GeometrySpec, Padding};

    fn svg(spec: GeometrySpec) -> String {
        render(&Derivation::new(&spec.resolve().unwrap()), "test")
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn textbook_draws_one_cell_per_entry() {
        let s = svg(GeometrySpec::new([5, 5], [3, 3]));
        assert_eq!(count(&s, "class=\"cell\""), 81);
        assert_eq!(count(&s, "class=\"swatch\""), 9);
        assert!(s.contains("Every entry drawn"));
    }

    #[test]
    fn large_layers_are_downscaled_into_runs() {
        let s = svg(GeometrySpec::new([28, 28], [5, 5]));
        assert_eq!(count(&s, "class=\"cell\""), 0);
        // Each of the 24 output rows reads 5 input rows; each block holds 5 diagonals.
        assert_eq!(count(&s, "class=\"block\""), 24 * 5);
        assert_eq!(count(&s, "class=\"run\""), 24 * 5 * 5);
        assert!(s.contains("Downscaled"));
    }

    #[test]
    fn padded_strided_runs_cover_every_entry() {
        let mut spec = GeometrySpec::new([40, 30], [3, 3]);
        spec.stride = [2, 3];
        spec.padding = Padding::Same;
        let g = spec.resolve().unwrap();
        let d = Derivation::new(&g);
        let entries = d.jacobian_x();
        let u_shape = [1, g.output()[0], g.output()[1]];
        let frame = Frame::images(g.input_len(), g.output_len(), 1.0, [1, 40, 30], u_shape);
        let runs = collect_runs(&frame, &entries);
        for run in runs.values() {
            // Consecutive output columns, one entry each: a line covers exactly the run.
            assert_eq!(run.last.1 - run.first.1 + 1, run.len);
        }
        let total: usize = runs.values().map(|r| r.len).sum();
        assert_eq!(total, entries.len());
    }
}
