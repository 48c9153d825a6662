//! Colours of the kernel weights, the 1-based labels the legend and tooltips use, and the
//! legend.

use super::canvas::Canvas;
use super::{Frame, LEFT, TOP};
use crate::derive::Tap;

/// Most legend entries drawn; further colours are counted in a note.
pub const LEGEND_MAX: usize = 64;

/// Most distinct colours: beyond it weights are coloured by their spatial tap `(a, b)` only.
const FULL_PALETTE_MAX: usize = 64;

/// Which weights share a colour.
pub struct Palette {
    kernel: [usize; 2],
    in_channels: usize,
    /// Whether indices carry channels (any channel count above 1), as in the text renderers.
    pub channels: bool,
    /// Whether each weight `k[o][c][a][b]` has its own colour (else one per tap `(a, b)`).
    pub per_weight: bool,
    /// Number of colours.
    pub len: usize,
}

impl Palette {
    pub fn new(kernel: [usize; 2], in_channels: usize, out_channels: usize) -> Self {
        let taps = kernel[0] * kernel[1];
        let weights = taps * in_channels * out_channels;
        let per_weight = weights <= FULL_PALETTE_MAX;
        Self {
            kernel,
            in_channels,
            channels: in_channels > 1 || out_channels > 1,
            per_weight,
            len: if per_weight { weights } else { taps },
        }
    }

    /// The colour index of a weight.
    pub fn key(&self, t: Tap) -> usize {
        let tap = t.row * self.kernel[1] + t.col;
        if self.per_weight {
            (t.o * self.in_channels + t.c) * self.kernel[0] * self.kernel[1] + tap
        } else {
            tap
        }
    }

    /// The weight (or tap) a colour index stands for.
    pub fn tap(&self, key: usize) -> Tap {
        let taps = self.kernel[0] * self.kernel[1];
        let plane = key / taps;
        Tap {
            o: plane / self.in_channels,
            c: plane % self.in_channels,
            row: key % taps / self.kernel[1],
            col: key % self.kernel[1],
        }
    }

    /// An HSL colour: hues evenly spread, lightness alternating when there are many.
    pub fn color(&self, key: usize) -> String {
        let n = self.len.max(1);
        let hue = (key * 360) as f64 / n as f64;
        let light = if n > 12 && key % 2 == 1 { 38 } else { 52 };
        format!("hsl({hue:.1}, 72%, {light}%)")
    }

    /// `k` with its 1-based subscript, as SVG markup: `k<tspan ..>1,1</tspan>`; without channels
    /// when the palette is per tap (then it means every weight at that tap).
    pub fn label(&self, key: usize) -> String {
        let t = self.tap(key);
        if self.channels && self.per_weight {
            sub("k", &[t.o + 1, t.c + 1, t.row + 1, t.col + 1])
        } else if self.channels {
            sub("k", &[0, 0, t.row + 1, t.col + 1]).replace("0,0,", "·,·,")
        } else {
            sub("k", &[t.row + 1, t.col + 1])
        }
    }

    /// [`Palette::label`] as plain text, for tooltips.
    pub fn plain(&self, t: Tap) -> String {
        if self.channels {
            format!("k{},{},{},{}", t.o + 1, t.c + 1, t.row + 1, t.col + 1)
        } else {
            format!("k{},{}", t.row + 1, t.col + 1)
        }
    }
}

/// A symbol with a subscript, as SVG markup.
pub fn sub(symbol: &str, index: &[usize]) -> String {
    let index: Vec<String> = index.iter().map(usize::to_string).collect();
    format!(
        "{symbol}<tspan baseline-shift=\"sub\" font-size=\"75%\">{}</tspan>",
        index.join(",")
    )
}

/// Colour swatches and the weight each stands for, right of the matrix.
pub(super) fn legend(c: &mut Canvas, f: &Frame, palette: &Palette) {
    let x = LEFT + f.width() + 40.0;
    let what = if palette.per_weight {
        "kernel weight"
    } else {
        "kernel tap (any channels)"
    };
    c.text(x, TOP - 8.0, "legend-title", "start", what);
    for key in 0..palette.len.min(LEGEND_MAX) {
        let y = TOP + 20.0 * key as f64;
        c.raw(&format!(
            "<rect class=\"swatch\" x=\"{x:.2}\" y=\"{y:.2}\" width=\"14\" height=\"14\" \
             fill=\"{}\" data-k=\"{key}\"/>\n",
            palette.color(key)
        ));
        c.text(
            x + 20.0,
            y + 11.5,
            "legend-label",
            "start",
            &palette.label(key),
        );
    }
    if palette.len > LEGEND_MAX {
        let y = TOP + 20.0 * LEGEND_MAX as f64 + 12.0;
        let more = format!("(+{} more)", palette.len - LEGEND_MAX);
        c.text(x, y, "legend-label", "start", &more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let p = Palette::new([3, 2], 2, 3);
        assert!(p.per_weight);
        for key in 0..p.len {
            assert_eq!(p.key(p.tap(key)), key);
        }
        let big = Palette::new([3, 3], 8, 8);
        assert!(!big.per_weight);
        assert_eq!(big.len, 9);
        let t = Tap {
            o: 5,
            c: 2,
            row: 1,
            col: 2,
        };
        assert_eq!(big.key(t), 5);
    }
}
