//! The axes of a Jacobian picture: titles and 1-based element labels (every element when there
//! is room, else one per image row, or every few elements of a vector), and the labels' text.

use super::canvas::Canvas;
use super::palette::sub;
use super::{Frame, LABEL_GAP, LEFT, TOP};
use crate::derive::Pixel;

/// Axis titles and element labels (every element when there is room, else one per image row or
/// every few elements of a vector).
pub(super) fn axes(c: &mut Canvas, f: &Frame, cells: bool) {
    let (w, h) = (f.width(), f.height());
    let [x, u] = f.symbols;
    c.text(
        LEFT + w / 2.0,
        76.0,
        "axis-title",
        "middle",
        &format!("output element {u} (column) →"),
    );
    c.raw(&format!(
        "<text class=\"axis-title\" transform=\"translate(16 {:.2}) rotate(-90)\" \
         text-anchor=\"middle\">input element {x} (row) →</text>\n",
        TOP + h / 2.0
    ));
    let channels = f.channels();
    if cells && f.s >= LABEL_GAP {
        for r in 0..f.rows {
            let y = TOP + (r as f64 + 0.5) * f.s + 4.0;
            let label = element(x, f.x_shape, f.vectors[0], r, channels);
            c.text(LEFT - 4.0, y, "row-label", "end", &label);
        }
        for col in 0..f.cols {
            let at = LEFT + (col as f64 + 0.5) * f.s + 4.0;
            let label = element(u, f.u_shape, f.vectors[1], col, channels);
            column_label(c, at, &label);
        }
    } else {
        group_labels(c, f, channels);
    }
}

/// One label per image row (`x` row p, `u` row i), or per few elements of a vector, thinned to
/// keep [`LABEL_GAP`].
fn group_labels(c: &mut Canvas, f: &Frame, channels: bool) {
    let [x, u] = f.symbols;
    let step = |group: usize| (LABEL_GAP / (group as f64 * f.s)).ceil().max(1.0) as usize;
    let [xv, uv] = f.vectors;
    // Elements per labelled group: an image row, or one element of a vector.
    let group = |shape: [usize; 3], vector: bool| if vector { 1 } else { shape[2] };
    let label = |symbol: &str, shape: [usize; 3], vector: bool, block: usize| match vector {
        true => element(symbol, shape, vector, block, channels),
        false => row_label(symbol, block, shape[1], channels),
    };
    let (xg, ug) = (group(f.x_shape, xv), group(f.u_shape, uv));
    for block in (0..f.rows / xg).step_by(step(xg)) {
        let y = TOP + ((block * xg) as f64 + xg as f64 / 2.0) * f.s + 4.0;
        let text = label(x, f.x_shape, xv, block);
        c.text(LEFT - 4.0, y, "row-label", "end", &text);
    }
    for block in (0..f.cols / ug).step_by(step(ug)) {
        let at = LEFT + ((block * ug) as f64 + ug as f64 / 2.0) * f.s + 4.0;
        column_label(c, at, &label(u, f.u_shape, uv, block));
    }
}

/// `x row 3` (1-based), with the channel when there are channels: `x c1 row 3`.
fn row_label(symbol: &str, block: usize, rows: usize, channels: bool) -> String {
    if channels {
        format!("{symbol} c{} row {}", block / rows + 1, block % rows + 1)
    } else {
        format!("{symbol} row {}", block % rows + 1)
    }
}

fn column_label(c: &mut Canvas, x: f64, label: &str) {
    c.raw(&format!(
        "<text class=\"col-label\" transform=\"translate({x:.2} {:.2}) rotate(-90)\" \
         text-anchor=\"start\">{label}</text>\n",
        TOP - 4.0
    ));
}

fn unflat([_, h, w]: [usize; 3], flat: usize) -> Pixel {
    Pixel {
        c: flat / (h * w),
        row: flat / w % h,
        col: flat % w,
    }
}

/// The 1-based subscript of element `flat` of `shape` (a `vector`'s one index, else row and
/// column, with the channel first when the picture has `channels`).
fn index(shape: [usize; 3], vector: bool, flat: usize, channels: bool) -> Vec<usize> {
    let p = unflat(shape, flat);
    match (vector, channels) {
        (true, _) => vec![flat + 1],
        (false, true) => vec![p.c + 1, p.row + 1, p.col + 1],
        (false, false) => vec![p.row + 1, p.col + 1],
    }
}

/// Element `flat` of `shape` as `symbol` with its 1-based subscript, as SVG markup.
fn element(symbol: &str, shape: [usize; 3], vector: bool, flat: usize, channels: bool) -> String {
    sub(symbol, &index(shape, vector, flat, channels))
}

/// [`element`] as plain text (`x2,3`).
pub(super) fn element_plain(
    symbol: &str,
    shape: [usize; 3],
    vector: bool,
    flat: usize,
    channels: bool,
) -> String {
    let index: Vec<String> = index(shape, vector, flat, channels)
        .iter()
        .map(usize::to_string)
        .collect();
    format!("{symbol}{}", index.join(","))
}
