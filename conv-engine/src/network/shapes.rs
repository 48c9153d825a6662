//! Shape inference: each layer's kind and options resolved against the shape the layer before
//! it gives, the convolution's through `#[conv2d]`'s own validation. A layer that does not fit
//! its input is an error at that layer that gives both shapes.

use super::syntax::{first_span, LayerSyntax, Syntax};
use crate::derive::activation::{Activation, Slope};
use crate::derive::pool::{Pool, PoolKind};
use crate::parse::{self, Arguments};
use crate::{Scalar, Spec};
use syn::Error;

/// The shape of the values between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `[channels, rows, columns]`, channel-first.
    Image([usize; 3]),
    /// A flat vector of this length.
    Flat(usize),
}

impl Shape {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match *self {
            Shape::Image([c, h, w]) => c * h * w,
            Shape::Flat(n) => n,
        }
    }

    /// Whether it holds no element (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dimensions, outermost first.
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Image(d) => d.to_vec(),
            Shape::Flat(n) => vec![n],
        }
    }

    /// `6x28x28` or `120`.
    pub fn text(&self) -> String {
        match *self {
            Shape::Image([c, h, w]) => format!("{c}x{h}x{w}"),
            Shape::Flat(n) => n.to_string(),
        }
    }
}

/// What a layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A convolution, validated as `#[conv2d]` validates its attribute (channel-first).
    Conv(Spec),
    /// A fully connected layer, `u = W x + b` with `W` `[outputs][inputs]`.
    Dense {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
    },
    /// Max or average pooling.
    Pool(Pool),
    /// An elementwise activation.
    Activation(Activation),
    /// Channel-major flattening (`c * H * W + i * W + j`, as PyTorch).
    Flatten,
}

/// One layer, with the shapes it takes and gives.
#[derive(Clone)]
pub struct Layer {
    /// The field's name.
    pub name: syn::Ident,
    /// The field's doc attributes.
    pub attrs: Vec<syn::Attribute>,
    /// What it computes.
    pub kind: Kind,
    /// The shape it takes.
    pub input: Shape,
    /// The shape it gives.
    pub output: Shape,
}

impl Layer {
    /// Whether the layer has weights and a bias.
    pub fn has_parameters(&self) -> bool {
        matches!(self.kind, Kind::Conv(_) | Kind::Dense { .. })
    }

    /// `(weights, biases)` element counts.
    pub fn parameter_counts(&self) -> (usize, usize) {
        match &self.kind {
            Kind::Conv(spec) => (spec.geometry.kernel_len(), spec.geometry.bias_len()),
            Kind::Dense { inputs, outputs } => (inputs * outputs, *outputs),
            _ => (0, 0),
        }
    }

    /// Multiply-adds of one forward pass (padding taps left out).
    pub fn macs(&self) -> usize {
        match &self.kind {
            Kind::Conv(spec) => spec.geometry.nonzero_terms(),
            Kind::Dense { inputs, outputs } => inputs * outputs,
            _ => 0,
        }
    }
}

/// A validated network: the struct it is applied to, its input and its layers in order.
#[derive(Clone)]
pub struct Network {
    /// The struct as written.
    pub item: syn::ItemStruct,
    /// The input shape.
    pub input: Shape,
    /// Element type.
    pub scalar: Scalar,
    /// The layers, in order.
    pub layers: Vec<Layer>,
}

impl Network {
    /// The shape of the logits (the last layer's output).
    pub fn output(&self) -> Shape {
        self.layers.last().map_or(self.input, |l| l.output)
    }
}

const KINDS: &[&str] = &[
    "conv",
    "dense",
    "maxpool",
    "avgpool",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "flatten",
];

pub(super) fn infer(syntax: Syntax) -> syn::Result<Network> {
    let (input, input_span) = syntax.input;
    let elements = input.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if elements.is_none_or(|n| n > crate::MAX_DERIVED_MACS) {
        let [c, h, w] = input;
        let msg = format!(
            "input {c}x{h}x{w} holds more than {} elements, the most a network's layer may \
             hold (the limit of one convolution's multiply-adds)",
            crate::MAX_DERIVED_MACS
        );
        return Err(Error::new(input_span, msg));
    }
    let mut errors = parse::Errors::default();
    let mut shape = Shape::Image(input);
    let mut layers = Vec::new();
    for layer in syntax.layers {
        match errors.ok(resolve(&layer, shape, syntax.scalar)) {
            Some((kind, output)) => {
                layers.push(Layer {
                    name: layer.name,
                    attrs: layer.attrs,
                    kind,
                    input: shape,
                    output,
                });
                shape = output;
            }
            // The rest cannot be shaped: their errors would only repeat this one.
            None => break,
        }
    }
    errors.finish()?;
    if let Some(last) = layers.last() {
        if let Shape::Image(_) = last.output {
            let msg = format!(
                "the network ends with a {} output; softmax cross-entropy needs a flat vector of \
                 logits: end with `flatten` and a `dense!(classes)` layer",
                last.output.text()
            );
            return Err(Error::new(last.name.span(), msg));
        }
        if last.output.len() < 2 {
            let msg = "softmax cross-entropy needs at least 2 classes; the last layer gives 1";
            return Err(Error::new(last.name.span(), msg));
        }
    }
    if !layers.iter().any(Layer::has_parameters) {
        let msg = "the network has no layer with parameters (`conv!` or `dense!`)";
        return Err(Error::new(input_span, msg));
    }
    Ok(Network {
        item: syntax.item,
        input: Shape::Image(input),
        scalar: syntax.scalar,
        layers,
    })
}

/// The layer's kind and output shape, given its input shape.
fn resolve(layer: &LayerSyntax, input: Shape, scalar: Scalar) -> syn::Result<(Kind, Shape)> {
    let kind = layer.kind.to_string();
    let at = layer
        .options
        .as_ref()
        .map_or(layer.kind.span(), |o| first_span(o, layer.span));
    let context = |e: Error| prefix(e, &layer.name, input);
    match kind.as_str() {
        "conv" => conv(layer, input, scalar).map_err(context),
        "dense" => dense(layer, input).map_err(context),
        "maxpool" | "avgpool" => {
            let pool_kind = if kind == "maxpool" {
                PoolKind::Max
            } else {
                PoolKind::Average
            };
            pool(layer, input, pool_kind).map_err(context)
        }
        "relu" | "tanh" | "sigmoid" | "flatten" => {
            if let Some(options) = &layer.options {
                if !options.is_empty() {
                    let msg = format!("`{kind}` takes no options: write `{kind}`");
                    return Err(Error::new(at, msg));
                }
            }
            let out = match kind.as_str() {
                "relu" => (Kind::Activation(Activation::Relu), input),
                "tanh" => (Kind::Activation(Activation::Tanh), input),
                "sigmoid" => (Kind::Activation(Activation::Sigmoid), input),
                _ => (Kind::Flatten, Shape::Flat(input.len())),
            };
            Ok(out)
        }
        "leaky_relu" => {
            let alpha = match &layer.options {
                Some(options) => {
                    let args = Arguments::read(options.clone(), &["alpha"])?;
                    match args.positional.as_ref().or(args.get("alpha")) {
                        Some(v) => parse::number_value("alpha", v)?.0,
                        None => 0.01,
                    }
                }
                None => 0.01,
            };
            let slope = Slope::new(alpha).map_err(|e| Error::new(at, e.to_string()))?;
            Ok((Kind::Activation(Activation::LeakyRelu(slope)), input))
        }
        _ => {
            let hint = crate::parse::did_you_mean(&kind, KINDS);
            let list = KINDS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
            let msg = format!(
                "unknown layer `{kind}`; expected one of {}{hint}",
                list.join(", ")
            );
            Err(Error::new(layer.kind.span(), msg))
        }
    }
}

/// `layer `c2` (input 16x5x5): ` in front of each message.
fn prefix(e: Error, name: &syn::Ident, input: Shape) -> Error {
    let mut all: Option<Error> = None;
    for e in e {
        let msg = format!("layer `{name}` (input {}): {e}", input.text());
        let e = Error::new(e.span(), msg);
        match &mut all {
            Some(a) => a.combine(e),
            None => all = Some(e),
        }
    }
    all.unwrap_or_else(|| Error::new(name.span(), "invalid layer"))
}

fn options<'l>(layer: &'l LayerSyntax, example: &str) -> syn::Result<&'l proc_macro2::TokenStream> {
    match &layer.options {
        Some(o) if !o.is_empty() => Ok(o),
        _ => {
            let kind = &layer.kind;
            Err(Error::new(
                layer.span,
                format!("`{kind}` needs options, for example `{kind}!({example})`"),
            ))
        }
    }
}

fn conv(layer: &LayerSyntax, input: Shape, scalar: Scalar) -> syn::Result<(Kind, Shape)> {
    let options = options(layer, "kernel = 3x3, out_channels = 8")?;
    let Shape::Image(image) = input else {
        let msg = "`conv` needs an image (channels x rows x columns), not a flat vector: \
                   move it before `flatten`";
        return Err(Error::new(layer.kind.span(), msg));
    };
    let has_out = options
        .clone()
        .into_iter()
        .any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == "out_channels"));
    if !has_out {
        return Err(Error::new(
            first_span(options, layer.span),
            "missing `out_channels = N` (the number of filters, for example `out_channels = 6`)",
        ));
    }
    let spec = parse::conv_layer(options.clone(), image, scalar, layer.name.span())?;
    let g = &spec.geometry;
    let [oh, ow] = g.output();
    Ok((Kind::Conv(spec), Shape::Image([g.out_channels(), oh, ow])))
}

fn dense(layer: &LayerSyntax, input: Shape) -> syn::Result<(Kind, Shape)> {
    let options = options(layer, "10")?;
    let args = Arguments::read(options.clone(), &["out"])?;
    let Some(v) = args.positional.as_ref().or(args.get("out")) else {
        let msg = "`dense` needs its number of outputs, for example `dense!(10)`";
        return Err(Error::new(first_span(options, layer.span), msg));
    };
    let (outputs, span) = parse::count_value("out", v)?;
    if outputs == 0 {
        return Err(Error::new(span, "`dense` needs at least 1 output"));
    }
    let Shape::Flat(inputs) = input else {
        let msg = format!(
            "`dense` takes a flat vector, found an image {}: add `flatten` before it",
            input.text()
        );
        return Err(Error::new(layer.kind.span(), msg));
    };
    if inputs.saturating_mul(outputs) > crate::MAX_DERIVED_MACS {
        let msg = format!(
            "{inputs} -> {outputs} needs {} weights, more than the limit of {} (the most \
             multiply-adds of one derived layer)",
            inputs.saturating_mul(outputs),
            crate::MAX_DERIVED_MACS
        );
        return Err(Error::new(span, msg));
    }
    Ok((Kind::Dense { inputs, outputs }, Shape::Flat(outputs)))
}

fn pool(layer: &LayerSyntax, input: Shape, kind: PoolKind) -> syn::Result<(Kind, Shape)> {
    let options = options(layer, "2x2")?;
    let args = Arguments::read(options.clone(), &["kernel", "stride"])?;
    let Some(k) = args.positional.as_ref().or(args.get("kernel")) else {
        let msg = "missing the window, for example `2x2`";
        return Err(Error::new(first_span(options, layer.span), msg));
    };
    let (kernel, kernel_span) = parse::pair_value("kernel", k)?;
    let stride = match args.get("stride") {
        Some(s) => parse::pair_value("stride", s)?,
        None => (kernel, kernel_span),
    };
    let Shape::Image(image) = input else {
        let msg = "pooling needs an image (channels x rows x columns): move it before `flatten`";
        return Err(Error::new(layer.kind.span(), msg));
    };
    let pool = Pool::new(kind, image, kernel, stride.0).map_err(|e| {
        let span = match e {
            crate::derive::LayerError::Zero { what } if what.starts_with("stride") => stride.1,
            _ => kernel_span,
        };
        Error::new(span, e.to_string())
    })?;
    Ok((Kind::Pool(pool), Shape::Image(pool.output())))
}
