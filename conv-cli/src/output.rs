//! One validated layer to the text of the requested format.

use crate::args::OutputFormat;
use crate::json;
use crate::layer::Layer;
use conv_engine::derive::Derivation;
use conv_engine::emit::{generate_with, Options};
use conv_engine::explain::{self, Detail, Format};

/// Largest Jacobian (`x` elements times `u` elements) that `--full` writes in Markdown, LaTeX
/// or text: the `∂u/∂x` table has one cell per pair, so 1,000,000 cells is already tens of
/// megabytes. Beyond it `--full` is refused with a message.
pub const FULL_MAX_CELLS: usize = 1_000_000;

/// How much to write, from `--full` and `--summary`.
pub fn detail(full: bool, summary: bool) -> Detail {
    match (full, summary) {
        (true, _) => Detail::Full,
        (false, true) => Detail::Summary,
        (false, false) => Detail::Auto,
    }
}

/// What to write besides the layer and the format.
pub struct Choices {
    pub detail: Detail,
    /// Whether `rust` output keeps the picture inlined in the struct docs.
    pub doc_images: bool,
    /// Whether `latex` output is a complete document.
    pub standalone: bool,
}

/// The document for `layer` in `format`, or the reason it is not written.
pub fn render(
    layer: &Layer,
    format: OutputFormat,
    choices: &Choices,
) -> Result<String, Vec<String>> {
    let Choices {
        detail,
        doc_images,
        standalone,
    } = *choices;
    if standalone && format != OutputFormat::Latex {
        return Err(vec![
            "`--standalone` applies to `--format latex` only".to_string()
        ]);
    }
    let document = |format| {
        let d = Derivation::new(&layer.spec.geometry);
        check_full(&d, detail).map_err(|e| vec![e])?;
        Ok(match format {
            Format::Latex if standalone => explain::latex_document(&d, detail),
            format => explain::render(&d, format, detail),
        })
    };
    match format {
        OutputFormat::Markdown => document(Format::Markdown),
        OutputFormat::Latex => document(Format::Latex),
        OutputFormat::Text => document(Format::Text),
        OutputFormat::Json => {
            let d = Derivation::new(&layer.spec.geometry);
            let full = detail.is_full_for(&d);
            Ok(json::render(&layer.spec, &layer.attribute, &d, full))
        }
        OutputFormat::Svg => {
            let d = Derivation::new(&layer.spec.geometry);
            Ok(conv_engine::explain::svg(&d, &layer.attribute))
        }
        OutputFormat::Rust => rust(layer, doc_images),
    }
}

/// Refuses `--full` tables past [`FULL_MAX_CELLS`].
fn check_full(d: &Derivation, detail: Detail) -> Result<(), String> {
    let g = d.geometry();
    let cells = g.input_len().saturating_mul(g.output_len());
    if detail == Detail::Full && cells > FULL_MAX_CELLS {
        return Err(format!(
            "`--full` would write a ∂u/∂x table of {} x {} = {cells} cells, more than the limit \
             of {FULL_MAX_CELLS}; drop `--full` for the summary, or use `--format json --full` \
             (every sum, without the table) or `--format svg` (the sparsity pattern)",
            g.input_len(),
            g.output_len()
        ));
    }
    Ok(())
}

/// The code `#[conv2d(...)]` emits, formatted with prettyplease.
fn rust(layer: &Layer, doc_images: bool) -> Result<String, Vec<String>> {
    let options = Options {
        doc_images,
        ..Options::default()
    };
    generate_with(&layer.spec, &layer.target, &options)
        .and_then(syn::parse2::<syn::File>)
        .map(|file| prettyplease::unparse(&file))
        .map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
}
