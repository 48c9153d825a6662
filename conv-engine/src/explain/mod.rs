//! Renderers of a [`Derivation`]: Markdown (rustdoc, GitHub), LaTeX and plain text.
//!
//! The other layer kinds have sibling modules written in the same styles: [`dense`], [`pool`],
//! [`activation`], [`flatten`] and [`loss`], each with `render` (and `markdown`, `latex`,
//! `text`) and `svg`, a picture of its Jacobian.
//!
//! Every format shows the same document: the forward sums, the Jacobian tables `∂u/∂x` and
//! `∂u/∂k`, the chain-rule equations for `∂L/∂x`, `∂L/∂k`, `∂L/∂b`, and the matrix form (the
//! padded, stride-dilated `δ` and the rotated, dilated kernel) that the proof compares against.
//! Indices are 1-based, as in the textbook. Large layers get a summary unless
//! [`Detail::Full`] is asked for.
//!
//! ```
//! use conv_engine::{derive::Derivation, explain, GeometrySpec};
//! let g = GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap();
//! let md = explain::markdown(&Derivation::new(&g), explain::Detail::Auto);
//! assert!(md.contains("| ∂x<sub>1,1</sub> | k<sub>1,1</sub> | 0 |"));
//! ```

pub mod activation;
pub mod dense;
mod document;
pub mod flatten;
pub mod loss;
pub mod pool;
mod style;
mod svg;

pub use svg::MAX_CELLS_AXIS;

use crate::derive::Derivation;
use document::Document;
use style::{Latex, Markdown, Text};

/// How much of the derivation to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Detail {
    /// Everything for small layers, a summary for large ones (see [`Detail::is_full_for`]).
    #[default]
    Auto,
    /// Every table and equation, whatever the size.
    Full,
    /// Index formulas, counts and the first few equations.
    Summary,
}

/// Largest `x` elements times `u` elements for which [`Detail::Auto`] writes full tables.
pub const AUTO_FULL_CELLS: usize = 2_500;

impl Detail {
    /// Whether this detail level writes every table and equation for `d`.
    pub fn is_full_for(self, d: &Derivation) -> bool {
        let g = d.geometry();
        match self {
            Detail::Full => true,
            Detail::Summary => false,
            Detail::Auto => g.input_len() * g.output_len() <= AUTO_FULL_CELLS,
        }
    }
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Markdown with `<sub>` subscripts and pipe tables.
    Markdown,
    /// LaTeX (amsmath): `array` tables and `align*` equations, every symbol a LaTeX command
    /// (pure ASCII); [`latex_document`] wraps it in a complete document.
    Latex,
    /// Plain text for terminals.
    Text,
}

/// Renders `d` in `format`.
pub fn render(d: &Derivation, format: Format, detail: Detail) -> String {
    let full = detail.is_full_for(d);
    match format {
        Format::Markdown => Document::new(d, &Markdown, full).write(),
        Format::Latex => Document::new(d, &Latex, full).write(),
        Format::Text => Document::new(d, &Text, full).write(),
    }
}

/// [`render`] as Markdown.
pub fn markdown(d: &Derivation, detail: Detail) -> String {
    render(d, Format::Markdown, detail)
}

/// [`render`] as LaTeX.
pub fn latex(d: &Derivation, detail: Detail) -> String {
    render(d, Format::Latex, detail)
}

/// [`render`] as LaTeX, wrapped in a complete document (`article` class, `amsmath`) that
/// pdflatex compiles as it is; the title is the layer's [`attribute`].
pub fn latex_document(d: &Derivation, detail: Detail) -> String {
    let title = attribute(d).replace('_', "\\_");
    format!(
        "\\documentclass{{article}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n\n\
         \\section*{{Convolution layer: {title}}}\n\n{}\\end{{document}}\n",
        latex(d, detail)
    )
}

/// [`render`] as plain text.
pub fn text(d: &Derivation, detail: Detail) -> String {
    render(d, Format::Text, detail)
}

/// An SVG picture of `d`'s Jacobian `∂u/∂x`: one cell per nonzero entry, coloured by the kernel
/// weight it holds, with a legend; large layers are drawn downscaled in blocks (the caption says
/// so). `attribute` (`input = 5x5, kernel = 3x3`) goes into the title.
pub fn svg(d: &Derivation, attribute: &str) -> String {
    svg::render(d, attribute)
}

/// The attribute that declares `d`'s geometry: `input = 5x5, kernel = 3x3`, with the options
/// that differ from their defaults.
pub fn attribute(d: &Derivation) -> String {
    let s = d.geometry().spec();
    let pair = |[a, b]: [usize; 2]| {
        if a == b {
            a.to_string()
        } else {
            format!("({a}, {b})")
        }
    };
    let mut parts = vec![
        format!("input = {}x{}", s.input[0], s.input[1]),
        format!("kernel = {}x{}", s.kernel[0], s.kernel[1]),
    ];
    if s.stride != [1, 1] {
        parts.push(format!("stride = {}", pair(s.stride)));
    }
    if s.dilation != [1, 1] {
        parts.push(format!("dilation = {}", pair(s.dilation)));
    }
    match s.padding {
        crate::Padding::Valid => {}
        crate::Padding::Same => parts.push("padding = same".into()),
        crate::Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => parts.push(format!("padding = ({top}, {bottom}, {left}, {right})")),
    }
    if s.in_channels != 1 || s.out_channels != 1 {
        parts.push(format!(
            "in_channels = {}, out_channels = {}",
            s.in_channels, s.out_channels
        ));
    }
    parts.join(", ")
}

/// Rustdoc of a generated `forward`.
pub fn forward_doc(d: &Derivation) -> String {
    Document::new(d, &Markdown, false).forward_doc()
}

impl Derivation {
    /// The derivation as Markdown ([`Detail::Auto`]).
    pub fn to_markdown(&self) -> String {
        markdown(self, Detail::Auto)
    }
    /// The derivation as LaTeX ([`Detail::Auto`]): sections, `array` tables and `align*`
    /// equations (they need `amsmath`) to include in a document, pure ASCII.
    pub fn to_latex(&self) -> String {
        latex(self, Detail::Auto)
    }
    /// [`Self::to_latex`] as a complete document that pdflatex compiles as it is.
    pub fn to_latex_document(&self) -> String {
        latex_document(self, Detail::Auto)
    }
    /// The derivation as plain text ([`Detail::Auto`]).
    pub fn to_text(&self) -> String {
        text(self, Detail::Auto)
    }
    /// The Jacobian `∂u/∂x` as an SVG picture.
    pub fn to_svg(&self) -> String {
        svg(self, &attribute(self))
    }
}

#[cfg(test)]
mod tests;
