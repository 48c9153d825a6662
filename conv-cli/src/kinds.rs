//! The other layer kinds' derivations (`dense`, `pool`, `activation`, `flatten`, `loss`): sizes read
//! from the command line, validated by the engine's constructors, rendered by its explainers;
//! and whole networks (`network`, in [`crate::network`]).

use crate::args::{ActivationName, Kind, KindFormat, KindOutput, PoolKindArg};
use crate::output::FULL_MAX_CELLS;
use conv_engine::derive::activation::{Activation, Slope};
use conv_engine::derive::dense::Dense;
use conv_engine::derive::flatten::Flatten;
use conv_engine::derive::loss::SoftmaxCrossEntropy;
use conv_engine::derive::pool::{Pool, PoolKind};
use conv_engine::explain::{self, Detail, Format};

/// The document for `kind`, or every problem found.
pub fn render(kind: &Kind) -> Result<String, Vec<String>> {
    match kind {
        Kind::Dense(a) => {
            if a.inputs == 0 || a.outputs == 0 {
                return Err(vec![format!(
                    "a dense layer needs at least 1 input and 1 output, found {} -> {}",
                    a.inputs, a.outputs
                )]);
            }
            let cells = a.inputs.saturating_mul(a.outputs);
            if cells > conv_engine::MAX_DERIVED_MACS {
                return Err(vec![format!(
                    "{} -> {} has {cells} weights, more than the limit of {}",
                    a.inputs,
                    a.outputs,
                    conv_engine::MAX_DERIVED_MACS
                )]);
            }
            check_picture(&a.out, cells)?;
            let d = Dense::new(a.inputs, a.outputs);
            match format(&a.out) {
                None => Ok(explain::dense::svg(&d)),
                Some(f) => Ok(explain::dense::render(&d, f)),
            }
        }
        Kind::Pool(a) => {
            let input = sizes::<3>("--input", &a.input, "CxHxW or HxW, like `1x4x4`")?;
            let kernel = sizes::<2>("--kernel", &a.kernel, "KHxKW or K, like `2x2`")?;
            let stride = match &a.stride {
                Some(s) => sizes::<2>("--stride", s, "SHxSW or S, like `2`")?,
                None => kernel,
            };
            let kind = match a.kind {
                PoolKindArg::Max => PoolKind::Max,
                PoolKindArg::Average => PoolKind::Average,
            };
            let p = Pool::new(kind, input, kernel, stride).map_err(|e| vec![e.to_string()])?;
            check_full(&a.out, p.input_len().saturating_mul(p.output_len()))?;
            check_picture(&a.out, p.output_len().saturating_mul(p.window_len()))?;
            match format(&a.out) {
                None => Ok(explain::pool::svg(&p)),
                Some(f) => Ok(explain::pool::render(&p, f, detail(&a.out))),
            }
        }
        Kind::Activation(a) => {
            let f = match (a.name, a.alpha) {
                (ActivationName::LeakyRelu, alpha) => {
                    let slope =
                        Slope::new(alpha.unwrap_or(0.01)).map_err(|e| vec![e.to_string()])?;
                    Activation::LeakyRelu(slope)
                }
                (_, Some(_)) => {
                    return Err(vec!["`--alpha` applies to `leaky-relu` only".to_string()])
                }
                (ActivationName::Relu, None) => Activation::Relu,
                (ActivationName::Tanh, None) => Activation::Tanh,
                (ActivationName::Sigmoid, None) => Activation::Sigmoid,
            };
            match (format(&a.out), &a.input) {
                (None, input) => {
                    let input = match input {
                        Some(s) => sizes::<3>("--input", s, "CxHxW or HxW, like `1x4x4`")?,
                        None => [1, 4, 4],
                    };
                    if input.contains(&0) {
                        return Err(vec![format!(
                            "`--input` sizes must be at least 1, found {}x{}x{}",
                            input[0], input[1], input[2]
                        )]);
                    }
                    let elements = input.iter().try_fold(1usize, |n, &s| n.checked_mul(s));
                    check_picture(&a.out, elements.unwrap_or(usize::MAX))?;
                    Ok(explain::activation::svg(&f, input))
                }
                (Some(_), Some(_)) => Err(vec![
                    "`--input` applies to `--format svg` only: the rule is the same for every \
                     size"
                        .to_string(),
                ]),
                (Some(format), None) => Ok(explain::activation::render(&f, format)),
            }
        }
        Kind::Flatten(a) => {
            let input = sizes::<3>("--input", &a.input, "CxHxW or HxW, like `2x3x3`")?;
            let f = Flatten::new(input).map_err(|e| vec![e.to_string()])?;
            check_full(&a.out, f.len().saturating_mul(f.len()))?;
            check_picture(&a.out, f.len())?;
            match format(&a.out) {
                None => Ok(explain::flatten::svg(&f)),
                Some(format) => Ok(explain::flatten::render(&f, format, detail(&a.out))),
            }
        }
        Kind::Loss(a) => {
            let l = SoftmaxCrossEntropy::new(a.classes).map_err(|e| vec![e.to_string()])?;
            check_full(&a.out, l.classes().saturating_mul(l.classes()))?;
            check_picture(&a.out, l.classes().saturating_mul(l.classes()))?;
            match format(&a.out) {
                None => Ok(explain::loss::svg(&l)),
                Some(format) => Ok(explain::loss::render(&l, format, detail(&a.out))),
            }
        }
        Kind::Network(a) => crate::network::render(a),
    }
}

/// Refuses `--full` tables of more than [`FULL_MAX_CELLS`] cells, as for the convolution.
fn check_full(out: &KindOutput, cells: usize) -> Result<(), Vec<String>> {
    if out.full && out.format != KindFormat::Svg && cells > FULL_MAX_CELLS {
        return Err(vec![format!(
            "`--full` would write a Jacobian table of {cells} cells, more than the limit of \
             {FULL_MAX_CELLS}; drop `--full` for the rule and the first equations"
        )]);
    }
    Ok(())
}

fn detail(out: &KindOutput) -> Detail {
    crate::output::detail(out.full, out.summary)
}

/// Refuses an SVG picture of more than [`FULL_MAX_CELLS`] nonzero entries (each is listed
/// before the picture is drawn, downscaled or not).
fn check_picture(out: &KindOutput, entries: usize) -> Result<(), Vec<String>> {
    if out.format == KindFormat::Svg && entries > FULL_MAX_CELLS {
        return Err(vec![format!(
            "`--format svg` would draw a Jacobian of {entries} nonzero entries, more than the \
             limit of {FULL_MAX_CELLS}"
        )]);
    }
    Ok(())
}

/// The text format, `None` for SVG.
fn format(out: &KindOutput) -> Option<Format> {
    match out.format {
        KindFormat::Markdown => Some(Format::Markdown),
        KindFormat::Latex => Some(Format::Latex),
        KindFormat::Text => Some(Format::Text),
        KindFormat::Svg => None,
    }
}

/// `N` sizes from `AxBxC`; fewer are padded with leading 1s (`4x4` is `1x4x4`, `2` is `2x2` for
/// a pair, where a single value stands for both).
fn sizes<const N: usize>(
    flag: &str,
    value: &str,
    expected: &str,
) -> Result<[usize; N], Vec<String>> {
    let bad = || vec![format!("`{flag}` takes {expected}, found `{value}`")];
    let parts: Vec<usize> = value
        .trim()
        .split('x')
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let mut out = [1; N];
    match parts.len() {
        1 if N == 2 => out = [parts[0]; N],
        n if n == N => out.copy_from_slice(&parts),
        n if N == 3 && n == 2 => out[1..].copy_from_slice(&parts),
        _ => return Err(bad()),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_the_attribute_like_forms() {
        assert_eq!(sizes::<3>("--input", "1x4x4", "").unwrap(), [1, 4, 4]);
        assert_eq!(sizes::<3>("--input", "4x5", "").unwrap(), [1, 4, 5]);
        assert_eq!(sizes::<2>("--kernel", "2", "").unwrap(), [2, 2]);
        assert_eq!(sizes::<2>("--stride", "2x1", "").unwrap(), [2, 1]);
        assert_eq!(
            sizes::<2>("--kernel", "2x", "KHxKW").unwrap_err(),
            ["`--kernel` takes KHxKW, found `2x`"]
        );
        assert!(sizes::<3>("--input", "4", "").is_err());
        assert!(sizes::<2>("--kernel", "1x2x3", "").is_err());
    }
}
