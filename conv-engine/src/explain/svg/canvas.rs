//! A minimal SVG writer: the document frame, text, lines and raw elements.

use std::fmt::Write;

/// An SVG document being written.
pub struct Canvas {
    out: String,
}

impl Canvas {
    /// Opens a document of `width` by `height` pixels with the shared styles.
    pub fn new(width: f64, height: f64) -> Self {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" \
             height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" \
             font-family=\"sans-serif\">"
        );
        out.push_str(
            "<style>\n\
             .title { font-size: 15px; font-weight: bold; }\n\
             .subtitle, .caption { font-size: 12px; fill: #333; }\n\
             .axis-title, .legend-title { font-size: 13px; }\n\
             .row-label, .col-label, .legend-label { font-size: 11px; fill: #222; }\n\
             .cell-label { font-size: 10px; fill: #fff; stroke: #000; stroke-opacity: 0.45; stroke-width: 2px; paint-order: stroke; pointer-events: none; }\n\
             </style>\n",
        );
        out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
        Self { out }
    }

    /// Appends markup as is (the caller escapes user text).
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// A `<text>`; `markup` may hold `<tspan>`s, so user text must be escaped first.
    pub fn text(&mut self, x: f64, y: f64, class: &str, anchor: &str, markup: &str) {
        let _ = writeln!(
            self.out,
            "<text class=\"{class}\" x=\"{x:.2}\" y=\"{y:.2}\" text-anchor=\"{anchor}\">{markup}</text>"
        );
    }

    /// Plain `text` broken into lines of at most `width` pixels (about 6.5 px per character).
    pub fn wrapped_text(&mut self, x: f64, y: f64, width: f64, class: &str, text: &str) {
        let per_line = ((width / 6.5) as usize).max(20);
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        for (i, line) in lines.iter().enumerate() {
            self.text(x, y + 16.0 * i as f64, class, "start", &escape(line));
        }
    }

    /// A `<line>`.
    #[allow(clippy::too_many_arguments)] // two points, class and stroke: all needed, all plain.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str, color: &str, w: f64) {
        let _ = writeln!(
            self.out,
            "<line class=\"{class}\" x1=\"{x1:.2}\" y1=\"{y1:.2}\" x2=\"{x2:.2}\" y2=\"{y2:.2}\" \
             stroke=\"{color}\" stroke-width=\"{w}\"/>"
        );
    }

    /// Closes the document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            ch => out.push(ch),
        }
    }
    out
}
