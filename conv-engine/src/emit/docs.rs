//! Rustdoc of the generated items: the derivation in Markdown (tables and equations for small
//! layers, a structured summary for large ones), and for small layers the SVG picture of the
//! Jacobian, inlined as a `data:` image (rustdoc copies no files, but renders such images).

use super::dispatch::Docs;
use crate::derive::Derivation;
use crate::explain::{self, Detail};
use crate::plan::{
    Blocks, ConstCheck, Dk, Dx, Forward, LaneSums, Plan, Tier, TierPlan, Vectors, When,
};

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

/// The docs of `forward`, `forward_const`, `backward` and `backward_const`: the formula, the
/// code form of every tier, and which compile-time checks ran (`checked`: whether the
/// compile-time evaluation was emitted at all).
pub(super) fn functions(d: &Derivation, plan: &Plan, checked: bool) -> Docs {
    let head = explain::forward_doc(d).replacen("Forward pass, fully unrolled", "Forward pass", 1);
    let checks = checks(plan, checked);
    let tiers = |describe: &dyn Fn(&TierPlan) -> String| {
        if !plan.dispatch {
            return format!(
                "- every CPU (the layer is too small for a call into per-CPU code to pay, so \
                 the portable code runs everywhere, inlined into its caller): {}\n",
                describe(&plan.portable)
            );
        }
        let mut lines = String::new();
        for (tier, p) in plan.tiers() {
            lines += &format!("- {}: {}\n", tier_name(tier), describe(p));
        }
        lines
    };
    let forward_forms = tiers(&|p| {
        let fused = match p.forward_fused {
            When::Always => "; each product fused into its running sum",
            _ => "",
        };
        let blocks = match (p.forward_blocks, p.forward) {
            (Blocks::Wide, Forward::LayerRows) => {
                "; more output channels at once (32 vector registers)"
            }
            (Blocks::Wide, _) => "; more output columns at once (32 vector registers)",
            (Blocks::Narrow, _) => "",
        };
        format!("{}{fused}{blocks}", forward_form(p.forward))
    });
    let (same, runs) = match plan
        .tiers()
        .iter()
        .any(|(_, p)| p.forward_fused != When::Never)
    {
        true => (
            "All variants add the same products in the same order, after the bias: the wide \
             tiers give the same bits as each other, and agree with the portable one exactly on \
             integer inputs and within rounding on others.",
            "with the same bits on the portable tier and within rounding on the others",
        ),
        false => (
            "All variants add the same products in the same order, so they give the same bits.",
            "with the same bits",
        ),
    };
    let forward = format!(
        "{head}\n\nRuns the variant for the CPU it runs on (`conv_runtime::cpu::tier()`):\n\n\
         {forward_forms}\n{same} [`Self::forward_const`] is the portable variant as a `const \
         fn`.\n\n{checks}"
    );
    let forward_const = format!(
        "{head}\n\nThe portable variant of [`Self::forward`] as a `const fn` (for `const` items \
         and compile-time evaluation), written {}; at run time [`Self::forward`] runs the variant \
         for the CPU, {runs}.",
        forward_form(plan.portable.forward)
    );
    let backward_forms = tiers(&|p| {
        let fused = match (p.dx, p.fused) {
            (Dx::Unrolled, When::Always) => {
                "; each term after the first fused into the running sum (`conv-runtime`'s `std` \
                 feature on)"
            }
            (Dx::Unrolled, When::TargetHas) => {
                "; each term after the first fused into the running sum where the build's target \
                 has FMA (`conv_runtime::mul_add`)"
            }
            (_, When::Always) => {
                "; each product fused into its running sum (`conv-runtime`'s `std` feature on)"
            }
            _ => "",
        };
        let blocks = match p.backward_blocks {
            Blocks::Wide => "; more kernel columns of `∂L/∂k` per pass (32 vector registers)",
            Blocks::Narrow => "",
        };
        let sums = match p.lane_sums {
            LaneSums::Avx512Rows => {
                "; each padded row's columns of `∂L/∂x` added across output channels sixteen \
                 columns at a time (`conv_runtime::lanes::pairwise_rows_avx512`, AVX-512 \
                 shuffles: the same additions in the same order as each column's pairwise sum, \
                 which the proof executes; tests check the two agree bit for bit)"
            }
            LaneSums::EachColumn => "",
        };
        format!(
            "`∂L/∂x` {}; `∂L/∂k`, `∂L/∂b` {}{fused}{blocks}{sums}",
            dx_form(p.dx),
            dk_form(p.dk)
        )
    });
    let padding = match plan.portable.dx {
        Dx::Unrolled => "",
        _ => {
            " Loop forms multiply `delta` with the padding zeros in `∂L/∂k` where the layer pads \
             (so an infinite or NaN `delta` next to the padding gives NaN there, where the \
             unrolled form leaves the tap out)."
        }
    };
    let backward_head = format!(
        "Backward pass: with `delta = ∂L/∂u`, returns `∂L/∂x` ({} products), `∂L/∂k` ({} \
         products) and `∂L/∂b` (the sum of `delta` per output channel).{padding} See the type's \
         documentation for the equations and the summation orders.",
        d.dx().terms(),
        d.dk().terms()
    );
    let fusion = match plan.tiers().iter().any(|(_, p)| p.fused != When::Never) {
        true => {
            "Fused and unfused sums agree exactly on integer inputs and within rounding on \
             others. "
        }
        false => "All variants add the same products in the same order. ",
    };
    let backward = format!(
        "{backward_head}\n\nRuns the variant for the CPU it runs on \
         (`conv_runtime::cpu::tier()`):\n\n{backward_forms}\n{fusion}[`Self::backward_const`] \
         is the portable variant as a `const fn`.\n\n{checks}"
    );
    let backward_const = format!(
        "{backward_head}\n\nThe portable variant of [`Self::backward`] as a `const fn` (for \
         `const` items and compile-time evaluation); at run time [`Self::backward`] runs the \
         variant for the CPU."
    );
    Docs {
        forward,
        forward_const,
        backward,
        backward_const,
    }
}

/// Which checks ran for this layer.
fn checks(plan: &Plan, checked: bool) -> String {
    let proven = "The derivation these functions sum was proven during expansion equal, term by \
                  term, to the padded/rotated formulation.";
    let evaluated = match (checked, plan.check) {
        (false, _) => "No compile-time evaluation was emitted for this layer.".to_string(),
        (true, ConstCheck::Whole) => {
            let names = plan.tiers().map(|(_, p)| super::variants::names(p));
            let through = match super::later_forwards(&names).is_empty() {
                false => {
                    " (a `forward` after the first through the first one's output on the same \
                     inputs)"
                }
                true => "",
            };
            format!(
                "Checked at compile time on integer inputs: every variant's `forward` and \
                 `backward` were evaluated whole in `const` and compared exactly with \
                 `conv_runtime::reference`{through}."
            )
        }
        (true, ConstCheck::OneRow) => {
            let layer_level = plan.tiers().iter().all(|(_, p)| p.dx != Dx::RowsMatrix);
            let backward = match layer_level {
                true => {
                    " `backward`, at the layer level, calls no one-row layer: the symbolic \
                     execution of its IR during expansion is its only check in the build."
                }
                false => "",
            };
            format!(
                "Checked at compile time on integer inputs only through the one-row layer the \
                 loops call: the layer is too large to evaluate whole in `const`.{backward}"
            )
        }
    };
    let rows_forward = plan
        .tiers()
        .iter()
        .any(|(_, p)| matches!(p.forward, Forward::Rows | Forward::RowsOverChannels));
    let rows_backward = plan.tiers().iter().any(|(_, p)| p.dx == Dx::RowsMatrix);
    let looped = match (rows_forward, rows_backward) {
        (true, true) => {
            "the window copies and the rows of `u`; the padded `∂L/∂x` and its \
                         crop, the sums of `∂L/∂k` and `∂L/∂b`"
        }
        (true, false) => "the window copies and the rows of `u` in `forward`",
        (false, true) => {
            "the window copies, the padded `∂L/∂x` and its crop, the sums of \
                          `∂L/∂k` and `∂L/∂b` in `backward`"
        }
        (false, false) => "",
    };
    let loops = match looped.is_empty() {
        true => String::new(),
        false => format!(
            " The loops over output rows around the one-row layer ({looped}) were proven \
             during expansion by executing their loop IR symbolically against the derivation, \
             with the one-row layer taken as its own derivation."
        ),
    };
    let intrinsics = match plan.dispatch && plan.avx512.vectors == Vectors::Avx512 {
        true => {
            let evaluated = match (checked, plan.check) {
                (true, ConstCheck::Whole) => {
                    "; the compile-time evaluation ran the same programs written as scalar code \
                     (intrinsics are not `const`), not the code with intrinsics"
                }
                (true, ConstCheck::OneRow) => {
                    "; the compile-time evaluation ran the one-row layer written as scalar \
                     code (intrinsics are not `const`), not its twin with intrinsics"
                }
                (false, _) => "",
            };
            format!(
                " On x86-64 with AVX-512 the code that runs writes its loops over whole vectors \
                 with AVX-512 intrinsics (`core::arch`; LLVM's tuning for some AVX-512 CPUs would \
                 halve the vectors of loops it vectorises itself): the proven programs, each \
                 lane given the scalar code's operations in its order{evaluated}."
            )
        }
        false => String::new(),
    };
    format!(
        "{proven}{whole}{loops} {evaluated}{intrinsics}",
        whole = whole_ir(plan)
    )
}

/// The sentence naming the functions whose code is built as loop IR whole and proven by
/// symbolic execution, if any.
fn whole_ir(plan: &Plan) -> String {
    let mut forms = Vec::new();
    for (_, p) in plan.tiers() {
        let forward = match p.forward {
            Forward::Unrolled => Some("the unrolled `forward`"),
            Forward::Window => Some("the window `forward`"),
            Forward::Rows | Forward::RowsOverChannels => Some("the one-row layer's `forward`"),
            Forward::LayerRows => Some("the layer-level `forward`"),
        };
        let backward = match p.dx {
            Dx::Unrolled => Some("the unrolled `backward`"),
            Dx::Window => Some("the window `backward`"),
            Dx::RowsMatrix => Some("the one-row layer's `backward`"),
            Dx::LayerRows | Dx::LayerOverChannels => Some("the layer-level `backward`"),
        };
        for form in [forward, backward].into_iter().flatten() {
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    let list = match forms.as_slice() {
        [] => return String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    format!(
        " The code of {list} was built as IR and proven during expansion by symbolic \
         execution: each output element sums exactly the derivation's products."
    )
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Portable => "portable (any CPU, and the `const fn`s)",
        Tier::Avx2 => "x86-64 with AVX2 and FMA",
        Tier::Avx512 => "x86-64 with AVX-512",
    }
}

fn forward_form(f: Forward) -> &'static str {
    match f {
        Forward::Unrolled => "fully unrolled, one expression per output element",
        Forward::Window => "loops over output positions with the kernel window written out",
        Forward::Rows => {
            "a loop over output rows around a one-row layer whose kernel taps update whole rows"
        }
        Forward::RowsOverChannels => {
            "a loop over output rows around a one-row layer that updates every output channel at \
             once (the kernel transposed once per call)"
        }
        Forward::LayerRows => {
            "a loop over output rows and pairs of output channels whose kernel taps update whole \
             rows, a multiple of a vector wide"
        }
    }
}

fn dx_form(f: Dx) -> &'static str {
    match f {
        Dx::Unrolled => "fully unrolled",
        Dx::Window => "accumulated per output position into a padded copy, then cropped",
        Dx::RowsMatrix => {
            "per output row, the one-row layer's matrix form (masked row updates), added into a \
             padded copy"
        }
        Dx::LayerRows => "one padded input row at a time over the whole layer",
        Dx::LayerOverChannels => {
            "per input channel and padded input row, every output channel's partial sums of the \
             row updated at once by each output row that reaches it, then added across output \
             channels"
        }
    }
}

fn dk_form(f: Dk) -> &'static str {
    match f {
        Dk::Unrolled => "fully unrolled",
        Dk::Window => "accumulated per output position and tap",
        Dk::RowsDots => "per output row, dot products in interleaved partial sums",
        Dk::RowsOverChannels => "per output row, updates of every output channel at once",
        Dk::LayerRows => "lane sums over every row of the layer",
        Dk::LayerOverChannels => {
            "per input channel, every tap's partial sums of every output channel at once over \
             the output positions"
        }
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
