//! Renderers of an [`Activation`]: the elementwise forward definition, the diagonal Jacobian
//! with the derivative written from the stored output, and the chain rule
//! `∂L/∂x = δ ⊙ f'(x)`, in the convolution's styles. The rule is the same for every size, so
//! indices are symbolic (`i`, `j`).
//!
//! ```
//! use conv_engine::derive::activation::Activation;
//! use conv_engine::explain;
//! let md = explain::activation::markdown(&Activation::Relu);
//! assert!(md.contains("∂L/∂x<sub>i</sub> = δ<sub>i</sub>·[u<sub>i</sub> > 0]"));
//! ```

use super::style::{Latex, Markdown, Style, Sym, Text};
use super::svg::matrix::{self, Entry, Matrix, Side, BLUE};
use super::Format;
use crate::derive::activation::Activation;

/// Renders `a` in `format`.
pub fn render(a: &Activation, format: Format) -> String {
    match format {
        Format::Markdown => Writer { a, s: &Markdown }.write(),
        Format::Latex => Writer { a, s: &Latex }.write(),
        Format::Text => Writer { a, s: &Text }.write(),
    }
}

/// [`render`] as Markdown.
pub fn markdown(a: &Activation) -> String {
    render(a, Format::Markdown)
}

/// [`render`] as LaTeX, pure ASCII, `amsmath`.
pub fn latex(a: &Activation) -> String {
    render(a, Format::Latex)
}

/// [`render`] as plain text.
pub fn text(a: &Activation) -> String {
    render(a, Format::Text)
}

/// An SVG picture of `a`'s Jacobian `∂u/∂x` on an input of shape `input` (`[channels, H,
/// W]`; the rule is the same for every shape): the diagonal, each entry the derivative written
/// from the stored output.
pub fn svg(a: &Activation, input: [usize; 3]) -> String {
    let side = |symbol| Side::image(symbol, input);
    let channels = input[0] > 1;
    let entries = (0..input.iter().product())
        .map(|i| Entry {
            row: i,
            col: i,
            value: derivative_in(a, &side("u").label(i, channels)),
            fill: BLUE,
        })
        .collect();
    let [c, h, w] = input;
    matrix::render(&Matrix {
        layer: format!("{}, input {c}x{h}x{w}", title(a)),
        rows: side("x"),
        cols: side("u"),
        entries,
        cell: format!("∂u/∂x = f'(x) = {}", derivative_in(a, "u")),
        note: "Off the diagonal every entry is 0, so ∂L/∂x = δ ⊙ f'(x).".to_string(),
    })
}

/// `f'(x)` written in terms of `u`, the output (for ReLU and leaky ReLU, whose derivative
/// reads the same from the input, `u` may be the input).
fn derivative_in(a: &Activation, u: &str) -> String {
    match a {
        Activation::Relu => format!("[{u} > 0]"),
        Activation::LeakyRelu(_) => format!("[{u} > 0] + α·[{u} ≤ 0]"),
        Activation::Tanh => format!("1 - {u}²"),
        Activation::Sigmoid => format!("{u}·(1 - {u})"),
    }
}

/// `ReLU`, `Leaky ReLU (α = 0.01)`, `tanh`, `Sigmoid`.
pub fn title(a: &Activation) -> String {
    match a {
        Activation::Relu => "ReLU".to_string(),
        Activation::LeakyRelu(alpha) => format!("Leaky ReLU (α = {})", alpha.get()),
        Activation::Tanh => "tanh".to_string(),
        Activation::Sigmoid => "Sigmoid".to_string(),
    }
}

struct Writer<'a, S: Style> {
    a: &'a Activation,
    s: &'a S,
}

impl<S: Style> Writer<'_, S> {
    fn x(&self) -> String {
        self.s.sym_at(Sym::X, "i")
    }
    fn u(&self) -> String {
        self.s.sym_at(Sym::U, "i")
    }

    /// `f(x_i)`.
    fn forward(&self) -> String {
        let x = self.x();
        match self.a {
            Activation::Relu => format!("max(0, {x})"),
            Activation::LeakyRelu(_) => format!("{x}·[{x} > 0] + α·{x}·[{x} ≤ 0]"),
            Activation::Tanh => {
                format!("tanh({x}) = (exp({x}) - exp(-{x})) / (exp({x}) + exp(-{x}))")
            }
            Activation::Sigmoid => format!("σ({x}) = 1 / (1 + exp(-{x}))"),
        }
    }

    /// `f'(x_i)` written from `x`, then from the stored output `u`.
    fn derivative(&self) -> (String, String) {
        let x = self.x();
        let from_x = match self.a {
            Activation::Relu | Activation::LeakyRelu(_) => derivative_in(self.a, &x),
            Activation::Tanh => format!("1 - tanh({x})²"),
            Activation::Sigmoid => format!("σ({x})·(1 - σ({x}))"),
        };
        (from_x, derivative_in(self.a, &self.u()))
    }

    fn why(&self) -> String {
        let m = |f: &str| self.s.math(f);
        match self.a {
            Activation::Relu => format!(
                "At {} the derivative is taken as 0, as PyTorch: the output is 0 there and {} is 0.",
                m("x = 0"),
                m("[u > 0]")
            ),
            Activation::LeakyRelu(alpha) => format!(
                "With {} the output has the input's sign, so {} and the derivative is read from \
                 the output; at {} it is {}, as PyTorch.",
                m(&format!("α = {} ≥ 0", alpha.get())),
                m("[u > 0] = [x > 0]"),
                m("x = 0"),
                m("α"),
            ),
            Activation::Tanh => format!(
                "Since {}.",
                m("d tanh(x)/dx = 1 / cosh(x)² = 1 - tanh(x)²")
            ),
            Activation::Sigmoid => format!(
                "Since {}.",
                m("σ'(x) = exp(-x) / (1 + exp(-x))² = σ(x)·(1 - σ(x))")
            ),
        }
    }

    fn write(&self) -> String {
        let s = self.s;
        let (x, u, delta) = (self.x(), self.u(), s.sym_at(Sym::Delta, "i"));
        let m = |f: &str| s.math(f);
        let mut out = s.heading(&title(self.a));
        out += &s.paragraph(&format!(
            "Elementwise, for every element i of an input of any shape (flat index): {}. The \
             backward pass keeps only the output u.",
            m(&format!("{u} = f({x})"))
        ));
        out += &s.heading("Forward");
        out += &s.equations(&[(u.clone(), self.forward())]);
        out += &s.heading("Jacobian ∂u/∂x");
        out += &s.paragraph(&format!(
            "Diagonal: {} for {}. On the diagonal, the derivative written from the stored output:",
            m(&format!("{} = 0", s.partial(&u, &s.sym_at(Sym::X, "j")))),
            m("i ≠ j"),
        ));
        let (from_x, from_u) = self.derivative();
        out += &s.equations(&[(s.partial(&u, &x), format!("{from_x} = {from_u}"))]);
        out += &s.paragraph(&self.why());
        out += &s.heading("Chain rule: ∂L/∂x");
        let factor = if from_u.contains(" + ") || from_u.contains(" - ") {
            format!("({from_u})")
        } else {
            from_u
        };
        out += &s.equations(&[(s.partial("L", &x), s.product(&delta, &factor))]);
        out += &s.paragraph(&format!(
            "With δ = ∂L/∂u: {}, one product per element.",
            m("∂L/∂x = δ ⊙ f'(x)")
        ));
        out
    }
}
