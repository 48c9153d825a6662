//! An SVG picture of a pooling layer's Jacobian `∂u/∂x`, on the convolution's frame, grid and
//! axes: one cell per structural nonzero entry (`1/n` for average pooling; for max pooling the
//! window entries, of which the argmax selects one per column), or grey blocks (one input row
//! by one output row) above [`MAX_CELLS_AXIS`] rows or columns.

use super::canvas::{escape, Canvas};
use super::{axes, grid, pixel_plain, Frame, LEFT, MAX_CELLS_AXIS, TARGET, TOP};
use crate::derive::pool::{Pool, PoolKind};
use std::collections::BTreeSet;

const CELL: &str = "#3b6fb6";

/// The picture of `p`'s `∂u/∂x`; `title` (`max pooling, input 1x4x4, ...`) goes on top.
pub fn render(p: &Pool, title: &str) -> String {
    let (rows, cols) = (p.input_len(), p.output_len());
    let cells = rows <= MAX_CELLS_AXIS && cols <= MAX_CELLS_AXIS;
    let s = if cells {
        (TARGET / rows.max(cols) as f64).floor().clamp(4.0, 28.0)
    } else {
        TARGET / rows.max(cols) as f64
    };
    let frame = Frame {
        rows,
        cols,
        s,
        x_shape: p.input(),
        u_shape: p.output(),
    };
    let entries = p.jacobian();
    let width = (LEFT + frame.width() + 40.0).max(760.0);
    let bottom = TOP + frame.height();
    let mut c = Canvas::new(width, bottom + 90.0);
    c.raw(&format!(
        "<title>Jacobian ∂u/∂x of {}</title>\n",
        escape(title)
    ));
    let value = match p.kind() {
        PoolKind::Average => format!("1/{}", p.window_len()),
        PoolKind::Max => "[x = max(W)]".to_string(),
    };
    c.text(
        10.0,
        22.0,
        "title",
        "start",
        &format!(
            "Jacobian ∂u/∂x: {} structural nonzero entries",
            entries.len()
        ),
    );
    c.text(10.0, 40.0, "subtitle", "start", &escape(title));
    grid(&mut c, &frame);
    let channels = p.input()[0] > 1;
    let caption = if cells {
        for e in &entries {
            let (x, y) = (
                LEFT + frame.u_flat(e.u) as f64 * s,
                TOP + frame.x_flat(e.x) as f64 * s,
            );
            let tip = format!(
                "∂{}/∂{} = {}",
                pixel_plain("u", e.u, channels),
                pixel_plain("x", e.x, channels),
                value
            );
            c.raw(&format!(
                "<rect class=\"cell\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"{s:.2}\" \
                 height=\"{s:.2}\" fill=\"{CELL}\"><title>{}</title></rect>\n",
                escape(&tip)
            ));
        }
        format!(
            "Every entry drawn: {} of {} cells ({rows} input × {cols} output elements). Row: x, \
             column: u; a cell is ∂u/∂x = {value}{}.",
            entries.len(),
            rows * cols,
            match p.kind() {
                PoolKind::Average => "",
                PoolKind::Max => ", 1 at the window's first maximum and 0 at its other cells",
            }
        )
    } else {
        let [_, _, xw] = p.input();
        let [_, _, uw] = p.output();
        let blocks: BTreeSet<(usize, usize)> = entries
            .iter()
            .map(|e| (frame.x_flat(e.x) / xw, frame.u_flat(e.u) / uw))
            .collect();
        for &(br, bc) in &blocks {
            c.raw(&format!(
                "<rect class=\"block\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" \
                 fill=\"#b8c8e0\"/>\n",
                LEFT + (bc * uw) as f64 * s,
                TOP + (br * xw) as f64 * s,
                uw as f64 * s,
                xw as f64 * s
            ));
        }
        format!(
            "Downscaled: {rows} × {cols} cells are too many to draw one by one (more than \
             {MAX_CELLS_AXIS} rows or columns). Each block is one input row × one output row \
             holding nonzero entries ∂u/∂x = {value} ({} blocks for {} entries).",
            blocks.len(),
            entries.len()
        )
    };
    axes(&mut c, &frame, cells);
    c.wrapped_text(10.0, bottom + 30.0, width - 20.0, "caption", &caption);
    c.finish()
}
