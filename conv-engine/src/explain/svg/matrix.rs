//! An SVG picture of a Jacobian given entry by entry, on the convolution's frame, grid and
//! axes: the pictures of the other layer kinds (pooling, dense, the activations, flatten, the
//! loss's softmax). Up to [`MAX_CELLS_AXIS`] rows and columns every structural nonzero entry
//! is one `<rect class="cell">` with a tooltip; beyond, each block (one image row, or a run of
//! elements of a long row or a vector, by the same of the other side) holding entries is one
//! grey `<rect class="block">`, and the caption says which drawing was made.

use super::axes::{axes, element_plain};
use super::canvas::{escape, Canvas};
pub(crate) use super::flat;
use super::{cell_size, grid, Frame, LEFT, MAX_CELLS_AXIS, TOP};
use std::collections::BTreeSet;

/// The colour of an entry.
pub(crate) const BLUE: &str = "#3b6fb6";
/// The colour of a second kind of entry (the softmax's off-diagonal ones).
pub(crate) const ORANGE: &str = "#d9822b";

/// Most blocks along a vector side, or along an image row, of a downscaled picture (a block
/// spans a run of elements there; an image row no longer than this is one block).
const RUN_BLOCKS: usize = 64;

/// A side of the matrix: its symbol (`x`), its shape (`[channels, H, W]`; `[1, 1, n]` for a
/// vector) and whether it is a vector, labelled by one index.
#[derive(Clone, Copy)]
pub(crate) struct Side {
    pub symbol: &'static str,
    pub shape: [usize; 3],
    pub vector: bool,
}

impl Side {
    /// An image side of `shape`.
    pub fn image(symbol: &'static str, shape: [usize; 3]) -> Self {
        Side {
            symbol,
            shape,
            vector: false,
        }
    }
    /// A vector side of `len` elements.
    pub fn vector(symbol: &'static str, len: usize) -> Self {
        Side {
            symbol,
            shape: [1, 1, len],
            vector: true,
        }
    }
    fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Element `flat` as plain text with its 1-based subscript (`u3`, `x2,1,1` with
    /// `channels`), as the picture labels it.
    pub fn label(&self, flat: usize, channels: bool) -> String {
        element_plain(self.symbol, self.shape, self.vector, flat, channels)
    }
}

/// One structural nonzero entry: its row (flat index of the input side), its column (flat
/// index of the output side), its value as text and its colour.
pub(crate) struct Entry {
    pub row: usize,
    pub col: usize,
    pub value: String,
    pub fill: &'static str,
}

/// A Jacobian to draw.
pub(crate) struct Matrix {
    /// The layer, for the document's title and the subtitle (`dense, 3 inputs → 2 outputs`).
    pub layer: String,
    /// The rows (the input side) and the columns (the output side).
    pub rows: Side,
    pub cols: Side,
    pub entries: Vec<Entry>,
    /// What a drawn cell is, ending the caption's first sentence (`∂u/∂x = 1/4`).
    pub cell: String,
    /// Said after it, in either drawing (the rule behind the entries' values).
    pub note: String,
}

impl Matrix {
    /// `∂u/∂x`, from the sides' symbols.
    fn name(&self) -> String {
        format!("∂{}/∂{}", self.cols.symbol, self.rows.symbol)
    }
}

/// The picture of `m`.
pub(crate) fn render(m: &Matrix) -> String {
    let (rows, cols) = (m.rows.len(), m.cols.len());
    let (cells, s) = cell_size(rows, cols);
    let frame = Frame {
        rows,
        cols,
        s,
        x_shape: m.rows.shape,
        u_shape: m.cols.shape,
        symbols: [m.rows.symbol, m.cols.symbol],
        vectors: [m.rows.vector, m.cols.vector],
    };
    let name = m.name();
    let width = (LEFT + frame.width() + 40.0).max(760.0);
    let bottom = TOP + frame.height();
    let mut c = Canvas::new(width, bottom + 110.0);
    c.raw(&format!(
        "<title>Jacobian {name} of {}</title>\n",
        escape(&m.layer)
    ));
    c.text(
        10.0,
        22.0,
        "title",
        "start",
        &format!(
            "Jacobian {name}: {} structural nonzero entries",
            m.entries.len()
        ),
    );
    c.text(10.0, 40.0, "subtitle", "start", &escape(&m.layer));
    grid(&mut c, &frame);
    let channels = frame.channels();
    let label = |side: &Side, flat: usize| side.label(flat, channels);
    let caption = if cells {
        for e in &m.entries {
            let (x, y) = (LEFT + e.col as f64 * s, TOP + e.row as f64 * s);
            let tip = format!(
                "∂{}/∂{} = {}",
                label(&m.cols, e.col),
                label(&m.rows, e.row),
                e.value
            );
            c.raw(&format!(
                "<rect class=\"cell\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{s:.2}\" \
                 height=\"{s:.2}\" fill=\"{}\"><title>{}</title></rect>\n",
                e.fill,
                escape(&tip)
            ));
        }
        format!(
            "Every entry drawn: {} of {} cells ({rows} input × {cols} output elements). Row: \
             {}, column: {}; a cell is {}. {}",
            m.entries.len(),
            rows * cols,
            m.rows.symbol,
            m.cols.symbol,
            m.cell,
            m.note
        )
    } else {
        // A run of a vector's elements, an image row, or a run of a row's elements where the
        // row is longer than RUN_BLOCKS.
        let group = |side: &Side| match (side.vector, side.shape[2]) {
            (true, _) => side.len().div_ceil(RUN_BLOCKS),
            (false, w) if w > RUN_BLOCKS => w.div_ceil(RUN_BLOCKS),
            (false, w) => w,
        };
        let (rg, cg) = (group(&m.rows), group(&m.cols));
        let blocks: BTreeSet<(usize, usize)> =
            m.entries.iter().map(|e| (e.row / rg, e.col / cg)).collect();
        for &(br, bc) in &blocks {
            // The last block of a side ends with it.
            let (h, w) = (rg.min(rows - br * rg), cg.min(cols - bc * cg));
            c.raw(&format!(
                "<rect class=\"block\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" \
                 fill=\"#b8c8e0\"/>\n",
                LEFT + (bc * cg) as f64 * s,
                TOP + (br * rg) as f64 * s,
                w as f64 * s,
                h as f64 * s
            ));
        }
        let what = |side: &Side, group: usize| match group {
            1 => "element".to_string(),
            g if g == side.shape[2] && !side.vector => "row".to_string(),
            g => format!("run of {g} elements"),
        };
        format!(
            "Downscaled: {rows} × {cols} cells are too many to draw one by one (more than \
             {MAX_CELLS_AXIS} rows or columns). Each block is one input {} × one output {} \
             holding nonzero entries, each {} ({} blocks for {} entries). {}",
            what(&m.rows, rg),
            what(&m.cols, cg),
            m.cell,
            blocks.len(),
            m.entries.len(),
            m.note
        )
    };
    axes(&mut c, &frame, cells);
    c.wrapped_text(10.0, bottom + 30.0, width - 20.0, "caption", &caption);
    c.finish()
}
