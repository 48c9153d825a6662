//! The command line: one option per attribute key, plus the output format and destination.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Examples and the JSON schema, shown by `--help` (not by `-h`).
const AFTER_LONG_HELP: &str = concat!(
    "Examples:\n",
    "  conv-derivation --input 5x5 --kernel 3x3\n",
    "  conv-derivation --input 5x5 --kernel 3x3 --format markdown --output textbook.md\n",
    "  conv-derivation --input 6x5 --kernel 3x3 --stride 2 --padding same --format latex\n",
    "  conv-derivation --input 5x5 --kernel 3x3 --format latex --standalone --output textbook.tex\n",
    "  conv-derivation --input 28x28 --kernel 5x5 --format svg --output jacobian.svg\n",
    "  conv-derivation --input \"(8, 6)\" --kernel 3x3 --in-channels 2 --out-channels 3 --format json\n",
    "  conv-derivation --input 5x5 --kernel 3x3 --padding \"(1, 0, 2, 1)\" --format rust\n",
    "  conv-derivation --input 28x28 --kernel 5x5 --unroll window --format rust --name Mnist\n",
    "\n",
    "Detail: without --full, layers whose Jacobian du/dx has more than 2500 cells (input elements\n",
    "times output elements) are summarised (index formulas, counts, the first equations; JSON:\n",
    "counts only). --full writes everything; for markdown, latex and text it is refused above\n",
    "1,000,000 Jacobian cells (the tables alone would be tens of megabytes).\n",
    "\n",
    "SVG: rows are input elements, columns output elements, one `rect class=\"cell\"` per nonzero\n",
    "du/dx entry coloured by the kernel weight it equals. Above 256 rows or columns the matrix is\n",
    "drawn in blocks (one per input row and output row, `rect class=\"block\"`), coloured by the\n",
    "kernel row they hold; the caption says so.\n",
    "\n",
    "JSON (schema \"conv-derivation/1\", all indices 0-based, see the crate docs for the full schema):\n",
    "  { \"schema\", \"attribute\", \"indexing\": \"0-based\", \"full\": bool,\n",
    "    \"geometry\": { input, kernel, stride, dilation, padding, pads, in_channels,\n",
    "                  out_channels, output, scalar, layout },\n",
    "    \"forward\" | \"dx\" | \"dk\" | \"db\": { \"count\", \"terms\", \"sums\"?: [ { <element>, \"products\": [..] } ] } }\n",
    "  pixel = { c, row, col } (x, u, delta), tap = { o, c, row, col } (k), bias = { o }.\n",
    "  forward: { u, products: [{ x, k }] }   dx: { x, products: [{ delta, k }] }\n",
    "  dk: { k, products: [{ delta, x }] }     db: { b, products: [{ delta }] }\n",
    "  \"sums\" is present only when \"full\" is true.\n",
    "\n",
    "Other layer kinds (subcommands; see `conv-derivation <kind> --help`):\n",
    "  conv-derivation pool --kind max --input 1x4x4 --kernel 2x2 [--stride 2] [--format latex]\n",
    "  conv-derivation activation relu        (leaky-relu [--alpha 0.01], tanh, sigmoid)\n",
    "  conv-derivation flatten --input 2x3x3\n",
    "  conv-derivation loss --classes 3\n",
    "  conv-derivation network conv-examples/lenet/src/lib.rs [--name LeNet5]\n",
);

/// Prints the derivation of a `#[conv2d(...)]` layer: the forward sums, the Jacobian tables
/// du/dx and du/dk, and the chain rule for dL/dx, dL/dk, dL/db; or the code the macro emits.
///
/// The layer options take exactly the attribute's values and are validated by the attribute's
/// own parser, so every message is the one `#[conv2d]` would give.
#[derive(Debug, Parser)]
#[command(
    name = "conv-derivation",
    version,
    after_long_help = AFTER_LONG_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Another layer kind than the convolution (the options above are the convolution's).
    #[command(subcommand)]
    pub kind: Option<Kind>,

    /// Input size `HxW` or `(H, W)` (required), e.g. `5x5`, `(28, 28)`.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub input: Option<String>,

    /// Kernel size `KHxKW` or `(KH, KW)` (required), e.g. `3x3`.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub kernel: Option<String>,

    /// Stride `S` or `(SH, SW)` [attribute default: 1].
    #[arg(long, value_name = "STRIDE", allow_hyphen_values = true)]
    pub stride: Option<String>,

    /// Padding `valid`, `same` (TensorFlow's rule) or `(top, bottom, left, right)`
    /// [attribute default: valid].
    #[arg(long, value_name = "PADDING", allow_hyphen_values = true)]
    pub padding: Option<String>,

    /// Dilation `D` or `(DH, DW)` [attribute default: 1].
    #[arg(long, value_name = "DILATION", allow_hyphen_values = true)]
    pub dilation: Option<String>,

    /// Input channels (the attribute's `in_channels`) [attribute default: 1, no channel axis].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub in_channels: Option<String>,

    /// Output channels (the attribute's `out_channels`) [attribute default: 1, no channel axis].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub out_channels: Option<String>,

    /// Element type `f32` or `f64` [attribute default: f32]; only `--format rust` shows it.
    #[arg(long, value_name = "TYPE", allow_hyphen_values = true)]
    pub scalar: Option<String>,

    /// Code strategy `full`, `window`, `rows` or `auto` (the attribute's `unroll`) [attribute default:
    /// auto]; only `--format rust` shows it.
    #[arg(long, value_name = "STRATEGY", allow_hyphen_values = true)]
    pub unroll: Option<String>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// With `--format latex`: a complete document (`article`, `amsmath`) that pdflatex
    /// compiles as it is, instead of the body to include in one.
    #[arg(long)]
    pub standalone: bool,

    /// Write every table, equation and sum even for large layers (see "Detail" below).
    #[arg(long, conflicts_with = "summary")]
    pub full: bool,

    /// Write the summary (index formulas, counts, first equations) even for small layers.
    #[arg(long)]
    pub summary: bool,

    /// In `--format rust`, leave out the SVG picture the struct docs inline (base64) for small
    /// layers.
    #[arg(long)]
    pub no_doc_images: bool,

    /// Name of the struct in `--format rust` [default: Layer].
    #[arg(long, value_name = "IDENT", default_value = "Layer")]
    pub name: String,

    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Markdown with `<sub>` subscripts and pipe tables (1-based indices, as in the textbook).
    Markdown,
    /// LaTeX (amsmath): `array` tables and `align*` equations (1-based indices, pure ASCII);
    /// with `--standalone` a complete document.
    Latex,
    /// Plain text for terminals (1-based indices).
    Text,
    /// An SVG picture of the Jacobian du/dx sparsity pattern, coloured by kernel weight.
    Svg,
    /// The derivation as data (0-based indices; schema in `--help`).
    Json,
    /// The exact code `#[conv2d(...)]` emits, formatted with prettyplease.
    Rust,
}

/// A layer kind other than the convolution, with its own sizes.
#[derive(Debug, Subcommand)]
pub enum Kind {
    /// A dense (fully connected) layer: forward, Jacobians, chain rule.
    Dense(DenseArgs),
    /// Max or average pooling (no padding): forward, Jacobian du/dx, chain rule.
    Pool(PoolArgs),
    /// An elementwise activation: forward, diagonal Jacobian, chain rule (any size).
    Activation(ActivationArgs),
    /// Channel-major flatten of a CxHxW input: a reshape, its identity Jacobian.
    Flatten(FlattenArgs),
    /// Softmax cross-entropy: the stable forward and the derivation of dL/dz.
    Loss(LossArgs),
    /// The layer table and the memory and cost table of each `#[network]` struct in a Rust
    /// source file (Markdown, as in the network's rustdoc).
    Network(NetworkArgs),
}

/// `dense`'s sizes.
#[derive(Debug, Args)]
pub struct DenseArgs {
    /// Inputs (the length of `x`).
    #[arg(long, value_name = "N")]
    pub inputs: usize,
    /// Outputs (the length of `u`).
    #[arg(long, value_name = "M")]
    pub outputs: usize,
    #[command(flatten)]
    pub out: KindOutput,
}

/// `pool`'s sizes.
#[derive(Debug, Args)]
pub struct PoolArgs {
    /// `max` or `average`.
    #[arg(long, value_enum)]
    pub kind: PoolKindArg,
    /// Input size `CxHxW` or `HxW` (one channel), e.g. `1x4x4`.
    #[arg(long, value_name = "SIZE")]
    pub input: String,
    /// Window size `KHxKW` or `K`, e.g. `2x2`.
    #[arg(long, value_name = "SIZE")]
    pub kernel: String,
    /// Stride `SHxSW` or `S` [default: the kernel, as PyTorch].
    #[arg(long, value_name = "STRIDE")]
    pub stride: Option<String>,
    #[command(flatten)]
    pub out: KindOutput,
}

/// Which pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PoolKindArg {
    /// The window's maximum (gradient to the first maximum).
    Max,
    /// The window's mean.
    Average,
}

/// `activation`'s choice.
#[derive(Debug, Args)]
pub struct ActivationArgs {
    /// The activation.
    #[arg(value_enum)]
    pub name: ActivationName,
    /// The leaky ReLU's slope for negative inputs [default: 0.01, as PyTorch].
    #[arg(long, allow_hyphen_values = true)]
    pub alpha: Option<f64>,
    /// Input size `CxHxW` or `HxW` of the `--format svg` picture [default: 1x4x4] (the
    /// documents' rule is the same for every size).
    #[arg(long, value_name = "SIZE")]
    pub input: Option<String>,
    #[command(flatten)]
    pub out: KindOutput,
}

/// An elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationName {
    /// max(0, x).
    Relu,
    /// x for x > 0, else alpha*x.
    LeakyRelu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + exp(-x)).
    Sigmoid,
}

/// `flatten`'s size.
#[derive(Debug, Args)]
pub struct FlattenArgs {
    /// Input size `CxHxW` or `HxW`, e.g. `2x3x3`.
    #[arg(long, value_name = "SIZE")]
    pub input: String,
    #[command(flatten)]
    pub out: KindOutput,
}

/// `loss`'s size.
#[derive(Debug, Args)]
pub struct LossArgs {
    /// Number of classes (logits).
    #[arg(long, value_name = "N")]
    pub classes: usize,
    #[command(flatten)]
    pub out: KindOutput,
}

/// `network`'s file.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// A Rust source file holding structs with a `#[network(...)]` attribute.
    #[arg(value_name = "FILE.rs")]
    pub file: PathBuf,
    /// Only the network of this struct [default: every one in the file].
    #[arg(long, value_name = "IDENT")]
    pub name: Option<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Format and destination of a layer kind's document.
#[derive(Debug, Args)]
pub struct KindOutput {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = KindFormat::Text)]
    pub format: KindFormat,
    /// Write every table and equation even for large layers.
    #[arg(long, conflicts_with = "summary")]
    pub full: bool,
    /// Write the rule and the first equations even for small layers.
    #[arg(long)]
    pub summary: bool,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What a layer kind's document is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindFormat {
    /// Markdown with `<sub>` subscripts and pipe tables (1-based indices).
    Markdown,
    /// LaTeX (amsmath), pure ASCII (1-based indices).
    Latex,
    /// Plain text for terminals (1-based indices).
    Text,
    /// An SVG picture of the Jacobian du/dx (the loss: the softmax's dp/dz), one cell per
    /// structural nonzero entry up to 256 rows and columns, downscaled into blocks beyond.
    Svg,
}

impl Kind {
    /// Where the document goes (`None`: standard output).
    pub fn output(&self) -> Option<&std::path::Path> {
        match self {
            Kind::Dense(a) => a.out.output.as_deref(),
            Kind::Pool(a) => a.out.output.as_deref(),
            Kind::Activation(a) => a.out.output.as_deref(),
            Kind::Flatten(a) => a.out.output.as_deref(),
            Kind::Loss(a) => a.out.output.as_deref(),
            Kind::Network(a) => a.output.as_deref(),
        }
    }
}

impl Cli {
    /// The layer options as `(attribute key, command-line flag, value)`, in the attribute's
    /// key order, only those given.
    pub fn layer_options(&self) -> Vec<(&'static str, &'static str, &str)> {
        [
            ("input", "--input", &self.input),
            ("kernel", "--kernel", &self.kernel),
            ("stride", "--stride", &self.stride),
            ("padding", "--padding", &self.padding),
            ("dilation", "--dilation", &self.dilation),
            ("in_channels", "--in-channels", &self.in_channels),
            ("out_channels", "--out-channels", &self.out_channels),
            ("scalar", "--scalar", &self.scalar),
            ("unroll", "--unroll", &self.unroll),
        ]
        .into_iter()
        .filter_map(|(key, flag, value)| value.as_deref().map(|v| (key, flag, v)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }
}
