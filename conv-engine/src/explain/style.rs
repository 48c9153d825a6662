//! How each output format writes symbols, equations, tables and headings.

/// The symbols of a derivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sym {
    X,
    K,
    /// A dense layer's weights.
    W,
    U,
    Delta,
    B,
    /// The logits of the loss.
    Z,
    /// The softmax of the logits.
    P,
    /// A pooling window.
    Window,
}

/// One output format. Indices passed in are already 1-based.
pub(crate) trait Style {
    fn sym(&self, s: Sym, idx: &[usize]) -> String {
        if idx.is_empty() {
            self.sym_at(s, "")
        } else {
            self.sym_at(s, &joined(idx))
        }
    }
    /// `s` with the subscript `idx` written as given (`i`, `c,p,q`); none when empty.
    fn sym_at(&self, s: Sym, idx: &str) -> String;
    /// An operator with a subscript, `Σ` over `j`.
    fn sub(&self, base: &str, idx: &str) -> String;
    /// `∂of/∂by`.
    fn partial(&self, of: &str, by: &str) -> String;
    fn product(&self, a: &str, b: &str) -> String;
    /// Inline math inside running text.
    fn math(&self, m: &str) -> String {
        m.to_string()
    }
    fn heading(&self, text: &str) -> String;
    fn paragraph(&self, text: &str) -> String {
        format!("{text}\n\n")
    }
    /// A table with a corner label, column headers and labelled rows.
    fn table(&self, corner: &str, cols: &[String], rows: &[(String, Vec<String>)]) -> String;
    /// One equation per line: `lhs = rhs`.
    fn equations(&self, eqs: &[(String, String)]) -> String;
    /// What stands for the `count` products a summary leaves out of a sum.
    fn elided(&self, count: usize) -> String {
        format!("… ({count} products)")
    }
}

fn joined(idx: &[usize]) -> String {
    idx.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Markdown for rustdoc and GitHub: subscripts as `<sub>`, tables as pipe tables.
pub(crate) struct Markdown;

impl Style for Markdown {
    fn sym_at(&self, s: Sym, idx: &str) -> String {
        let name = match s {
            Sym::X => "x",
            Sym::K => "k",
            Sym::W => "w",
            Sym::U => "u",
            Sym::Delta => "δ",
            Sym::B => "b",
            Sym::Z => "z",
            Sym::P => "p",
            Sym::Window => "W",
        };
        if idx.is_empty() {
            name.to_string()
        } else {
            format!("{name}<sub>{idx}</sub>")
        }
    }
    fn sub(&self, base: &str, idx: &str) -> String {
        format!("{base}<sub>{idx}</sub>")
    }
    fn partial(&self, of: &str, by: &str) -> String {
        format!("∂{of}/∂{by}")
    }
    fn product(&self, a: &str, b: &str) -> String {
        format!("{a}·{b}")
    }
    fn heading(&self, text: &str) -> String {
        format!("### {text}\n\n")
    }
    fn table(&self, corner: &str, cols: &[String], rows: &[(String, Vec<String>)]) -> String {
        let mut out = format!(
            "| {corner} | {} |\n|---|{}\n",
            cols.join(" | "),
            "---|".repeat(cols.len())
        );
        for (label, cells) in rows {
            out += &format!("| {label} | {} |\n", cells.join(" | "));
        }
        out + "\n"
    }
    fn equations(&self, eqs: &[(String, String)]) -> String {
        let mut out: String = eqs.iter().map(|(l, r)| format!("- {l} = {r}\n")).collect();
        out.push('\n');
        out
    }
}

/// LaTeX (amsmath): `array` tables and `align*` equations. The document's symbols are written
/// as LaTeX commands (`\partial`, `\delta`, `\sum`, `\star`, `\operatorname{rot180}`, ...), so
/// the output is pure ASCII, as pdflatex needs.
pub(crate) struct Latex;

/// The document's symbols in math mode, as LaTeX commands.
const MATH_SYMBOLS: [(&str, &str); 18] = [
    ("∂", "\\partial "),
    ("⊙", "\\odot "),
    ("≤", "\\le "),
    ("≥", "\\ge "),
    ("≠", "\\ne "),
    ("∈", "\\in "),
    ("α", "\\alpha "),
    ("σ", "\\sigma "),
    ("²", "^2"),
    ("⌊", "\\lfloor "),
    ("⌋", "\\rfloor "),
    ("δ", "\\delta "),
    ("Σ", "\\sum "),
    ("⋆", "\\star "),
    ("·", "\\cdot "),
    ("×", "\\times "),
    ("…", "\\dots "),
    ("->", "\\to "),
];

/// Names of operations, set upright in math mode. A name that ends another (`softmax`, `max`)
/// comes first: once written as `\operatorname{softmax}(` it no longer matches `max(`.
const OPERATORS: [&str; 13] = [
    "crop",
    "pad",
    "dilate",
    "rot180",
    "softmax",
    "argmax",
    "logsumexp",
    "onehot",
    "max",
    "exp",
    "ln",
    "tanh",
    "mean",
];

/// `m` (math-mode text from the document) with every symbol a LaTeX command and every operation
/// name upright.
fn latex_math(m: &str) -> String {
    let mut out = m.to_string();
    for (symbol, command) in MATH_SYMBOLS {
        out = out.replace(symbol, command);
    }
    for op in OPERATORS {
        out = out.replace(&format!("{op}("), &format!("\\operatorname{{{op}}}("));
    }
    out.replace("stride (", "\\text{stride }(")
}

/// `text` (running text from the document, possibly holding `$...$` already written by
/// [`Style::math`]) with the characters LaTeX treats specially outside math escaped and every
/// symbol set as inline math.
fn latex_text(text: &str) -> String {
    text.split('$')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                return format!("${part}$");
            }
            let mut out = String::with_capacity(part.len());
            for c in part.chars() {
                match c {
                    '_' | '%' | '&' | '#' => {
                        out.push('\\');
                        out.push(c);
                    }
                    '<' | '>' => out += &format!("${c}$"),
                    c if !c.is_ascii() => {
                        out += &format!("${}$", latex_math(&c.to_string()).trim_end())
                    }
                    c => out.push(c),
                }
            }
            out.replace("-$>$", "$\\to$")
        })
        .collect()
}

impl Style for Latex {
    fn sym_at(&self, s: Sym, idx: &str) -> String {
        let name = match s {
            Sym::X => "x",
            Sym::K => "k",
            Sym::W => "w",
            Sym::U => "u",
            Sym::Delta => "\\delta",
            Sym::B => "b",
            Sym::Z => "z",
            Sym::P => "p",
            Sym::Window => "W",
        };
        if idx.is_empty() {
            name.to_string()
        } else {
            format!("{name}_{{{idx}}}")
        }
    }
    fn sub(&self, base: &str, idx: &str) -> String {
        format!("{base}_{{{idx}}}")
    }
    fn partial(&self, of: &str, by: &str) -> String {
        format!("\\frac{{\\partial {of}}}{{\\partial {by}}}")
    }
    fn product(&self, a: &str, b: &str) -> String {
        format!("{a} \\cdot {b}")
    }
    fn math(&self, m: &str) -> String {
        format!("${}$", latex_math(m).trim_end())
    }
    fn heading(&self, text: &str) -> String {
        format!("\\subsection*{{{}}}\n\n", latex_text(text))
    }
    fn paragraph(&self, text: &str) -> String {
        format!("{}\n\n", latex_text(text))
    }
    fn table(&self, corner: &str, cols: &[String], rows: &[(String, Vec<String>)]) -> String {
        let mut out = format!("\\[\n\\begin{{array}}{{c|{}}}\n", "c".repeat(cols.len()));
        out += &format!("{corner} & {} \\\\ \\hline\n", cols.join(" & "));
        for (label, cells) in rows {
            out += &format!("{label} & {} \\\\\n", cells.join(" & "));
        }
        latex_math(&out) + "\\end{array}\n\\]\n\n"
    }
    fn equations(&self, eqs: &[(String, String)]) -> String {
        let lines: Vec<String> = eqs.iter().map(|(l, r)| format!("{l} &= {r}")).collect();
        format!(
            "\\begin{{align*}}\n{}\n\\end{{align*}}\n\n",
            latex_math(&lines.join(" \\\\\n"))
        )
    }
    fn elided(&self, count: usize) -> String {
        format!("\\dots \\text{{ ({count} products)}}")
    }
}

/// Plain text for terminals: `x[1,2]`, aligned columns.
pub(crate) struct Text;

impl Style for Text {
    fn sym_at(&self, s: Sym, idx: &str) -> String {
        let name = match s {
            Sym::X => "x",
            Sym::K => "k",
            Sym::W => "w",
            Sym::U => "u",
            Sym::Delta => "delta",
            Sym::B => "b",
            Sym::Z => "z",
            Sym::P => "p",
            Sym::Window => "W",
        };
        if idx.is_empty() {
            name.to_string()
        } else {
            format!("{name}[{idx}]")
        }
    }
    fn sub(&self, base: &str, idx: &str) -> String {
        format!("{base}_{idx}")
    }
    fn partial(&self, of: &str, by: &str) -> String {
        format!("d{of}/d{by}")
    }
    fn product(&self, a: &str, b: &str) -> String {
        format!("{a}*{b}")
    }
    fn heading(&self, text: &str) -> String {
        format!("{text}\n{}\n\n", "=".repeat(text.chars().count()))
    }
    fn table(&self, corner: &str, cols: &[String], rows: &[(String, Vec<String>)]) -> String {
        let width = |s: &String| s.chars().count();
        let mut widths: Vec<usize> = cols.iter().map(width).collect();
        let mut label_width = corner.chars().count();
        for (label, cells) in rows {
            label_width = label_width.max(width(label));
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(width(c));
            }
        }
        let line = |label: &str, cells: &[String]| {
            let cells: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            format!("{label:<label_width$} | {}\n", cells.join(" "))
        };
        let mut out = line(corner, cols);
        out += &format!("{}\n", "-".repeat(out.chars().count().saturating_sub(1)));
        for (label, cells) in rows {
            out += &line(label, cells);
        }
        out + "\n"
    }
    fn equations(&self, eqs: &[(String, String)]) -> String {
        let mut out: String = eqs.iter().map(|(l, r)| format!("{l} = {r}\n")).collect();
        out.push('\n');
        out
    }
}
