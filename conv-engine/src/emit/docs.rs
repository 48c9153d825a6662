//! Rustdoc of the generated items: the derivation in Markdown (tables and equations for small
//! layers, a structured summary for large ones), and for small layers the SVG picture of the
//! Jacobian, inlined as a `data:` image (rustdoc copies no files, but renders such images).

use super::rows;
use crate::derive::Derivation;
use crate::explain::{self, Detail};
use crate::Strategy;

pub(super) fn layer(d: &Derivation, images: bool) -> String {
    let mut doc = explain::markdown(d, Detail::Auto);
    if images && Detail::Auto.is_full_for(d) {
        let svg = explain::svg(d, &explain::attribute(d));
        doc += &format!(
            "### Jacobian ∂u/∂x, pictured\n\n![The nonzero entries of ∂u/∂x, coloured by kernel weight](data:image/svg+xml;base64,{})\n",
            base64(svg.as_bytes())
        );
    }
    doc
}

/// How the code of a strategy is written, for the function docs.
fn form(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Full => "fully unrolled",
        Strategy::Window => "loops over output positions with the kernel window written out",
        Strategy::Rows => {
            "a loop over output rows; each row is a one-row layer whose kernel window is written \
             out as row updates"
        }
    }
}

/// The doc of `forward` written with `strategy`; when `other` differs, `auto` writes it with
/// `strategy` on targets with (`avx2`) or without AVX2 and with `other` on the rest.
pub(super) fn forward(d: &Derivation, strategy: Strategy, other: Strategy, avx2: bool) -> String {
    let doc = explain::forward_doc(d).replacen("fully unrolled", form(strategy), 1);
    if other == strategy {
        return doc;
    }
    let (this, rest) = match avx2 {
        true => ("with AVX2 (`target_feature = \"avx2\"`)", "without it"),
        false => ("without AVX2 (`target_feature = \"avx2\"`)", "with it"),
    };
    format!(
        "{doc}\n\n`unroll = auto` writes it so on targets {this}, and {rest} {}: the same \
         products in the same order, so the same results on every target, in the form that was \
         faster there.",
        form(other)
    )
}

/// The doc of `backward` written with `strategy`; `layer_level` when a `rows` layer writes it
/// without its one-row layer (`rows::layer_level`).
pub(super) fn backward(
    d: &Derivation,
    strategy: Strategy,
    layer_level: Option<rows::LayerLevel>,
) -> String {
    let form = match (strategy, layer_level) {
        (Strategy::Rows, Some(rows::LayerLevel::Rows)) => {
            "loops over the rows of the whole layer: `∂L/∂x` one input row at a time (per kernel \
             column, the sum over output channels and kernel rows of a weight times a `delta` \
             row, then those rows added at their offsets), `∂L/∂k` and `∂L/∂b` as sums over \
             all output rows"
        }
        (Strategy::Rows, Some(rows::LayerLevel::OutputChannels)) => {
            "loops over the output positions of the whole layer with the output channels \
             innermost (`delta` and the kernel transposed once): per position and tap, one update \
             of every output channel's partial sum of `∂L/∂k`, `∂L/∂b` and `∂L/∂x`; the partial \
             sums of each `∂L/∂x` element are added at the end"
        }
        _ => form(strategy),
    };
    match strategy {
        Strategy::Full => explain::backward_doc(d),
        Strategy::Window | Strategy::Rows => format!(
            "Backward pass, {}: with `delta = ∂L/∂u`, returns `∂L/∂x`, `∂L/∂k` and `∂L/∂b` (the \
             sum of `delta` per output channel): the derivation's {} + {} nonzero products, in \
             another summation order, plus products of `delta` with the padding zeros in \
             `∂L/∂k` where the layer pads (so an infinite or NaN `delta` next to the padding \
             gives NaN there, where the full unroll leaves the tap out). Proven at compile time \
             equal to the padded/rotated formulation of `conv_runtime::reference`. See the \
             type's documentation for the equations.",
            form,
            d.dx().terms(),
            d.dk().terms()
        ),
    }
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::derive::Derivation;
    use crate::GeometrySpec;

    #[test]
    fn small_layers_inline_their_picture() {
        let d = Derivation::new(&GeometrySpec::new([5, 5], [3, 3]).resolve().unwrap());
        let doc = super::layer(&d, true);
        let at = doc
            .find("(data:image/svg+xml;base64,")
            .expect("an inlined image")
            + 27;
        let end = at + doc[at..].find(')').expect("a closed link");
        let svg = crate::explain::svg(&d, &crate::explain::attribute(&d));
        assert_eq!(&doc[at..end], super::base64(svg.as_bytes()));
        assert!(!super::layer(&d, false).contains("data:image"));
        let big = Derivation::new(&GeometrySpec::new([28, 28], [5, 5]).resolve().unwrap());
        assert!(
            !super::layer(&big, true).contains("data:image"),
            "summaries carry no picture"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
