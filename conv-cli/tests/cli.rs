//! The built `conv-derivation` binary: every format, snapshots of the documents, the SVG's
//! structure, and the attribute's own messages for bad arguments.

use std::path::PathBuf;
use std::process::{Command, Output};

const TEXTBOOK: &[&str] = &["--input", "5x5", "--kernel", "3x3"];
const STRIDED: &[&str] = &[
    "--input",
    "6x5",
    "--kernel",
    "3x3",
    "--stride",
    "2",
    "--padding",
    "same",
];

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conv-derivation"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Standard output of a successful run.
fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Standard error of a failing run (exit code 1, no panic).
fn failure(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 errors");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    stderr
}

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `format`'s output; `rust` without the picture inlined in the docs (the SVG is snapshotted on
/// its own).
fn format(base: &[&str], format: &str) -> String {
    let mut args = with(base, &["--format", format]);
    if format == "rust" {
        args.push("--no-doc-images".into());
    }
    stdout(&strs(&args))
}

#[test]
fn every_format_runs_for_the_textbook_layer() {
    for f in ["markdown", "latex", "text", "svg", "json", "rust"] {
        assert!(!format(TEXTBOOK, f).trim().is_empty(), "{f} is empty");
    }
    // Text is the default.
    assert_eq!(stdout(TEXTBOOK), format(TEXTBOOK, "text"));
}

#[test]
fn textbook_snapshots() {
    for f in ["markdown", "latex", "text", "svg", "json", "rust"] {
        insta::assert_snapshot!(format!("textbook_{f}"), format(TEXTBOOK, f));
    }
}

#[test]
fn strided_same_padded_snapshots() {
    for f in ["markdown", "latex", "text", "svg", "json", "rust"] {
        insta::assert_snapshot!(format!("strided_same_{f}"), format(STRIDED, f));
    }
}

/// Nonzero entries of `∂u/∂x`, from the JSON (`dx` terms).
fn nonzero(base: &[&str]) -> u64 {
    let json: serde_json::Value = serde_json::from_str(&format(base, "json")).unwrap();
    json["dx"]["terms"].as_u64().unwrap()
}

fn rects<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some(class))
        .collect()
}

#[test]
fn svg_has_one_cell_per_nonzero_jacobian_entry() {
    let svg = format(TEXTBOOK, "svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let cells = rects(&doc, "cell");
    assert_eq!(cells.len(), 81);
    assert_eq!(nonzero(TEXTBOOK), 81);
    // Each of the 9 weights colours 9 cells, and the legend has one swatch per weight.
    for k in 0..9 {
        let k = k.to_string();
        let n = cells
            .iter()
            .filter(|c| c.attribute("data-k") == Some(&k))
            .count();
        assert_eq!(n, 9, "weight {k}");
    }
    assert_eq!(rects(&doc, "swatch").len(), 9);
    // The top-left cell is du11/dx11 = k11.
    let tip = cells[0].first_element_child().and_then(|t| t.text());
    assert_eq!(tip, Some("∂u1,1/∂x1,1 = k1,1"));

    let svg = format(STRIDED, "svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(rects(&doc, "cell").len() as u64, nonzero(STRIDED));
}

#[test]
fn large_svg_is_downscaled_and_says_so() {
    let args = ["--input", "28x28", "--kernel", "5x5", "--format", "svg"];
    let svg = stdout(&args);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(rects(&doc, "cell").is_empty());
    assert_eq!(rects(&doc, "block").len(), 24 * 5);
    let runs = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("run"))
        .count();
    assert_eq!(runs, 24 * 5 * 5);
    assert!(svg.contains("Downscaled: 784 × 576 cells"));
}

/// The `error: ...` lines of a trybuild `.stderr` file of the attribute's UI tests (copied
/// into `tests/attribute/`, see the README there).
fn attribute_errors(name: &str) -> Vec<String> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "attribute"]
        .iter()
        .collect::<PathBuf>()
        .join(format!("{name}.stderr"));
    let text = std::fs::read_to_string(&path).expect("UI test expectation");
    errors(&text)
}

fn errors(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn bad_arguments_give_the_attribute_messages() {
    let cases: &[(&[&str], &str)] = &[
        (&["--input", "0x5", "--kernel", "3x3"], "hex-literal-size"),
        (
            &["--input", "5x5", "--kernel", "7x7"],
            "kernel-larger-than-input",
        ),
        (
            &["--input", "5x5", "--kernel", "3x3", "--padding", "sam"],
            "misspelt-padding",
        ),
        (&["--input", "5x5"], "missing-kernel"),
        (&["--kernel", "3x3"], "missing-input"),
        (
            &["--input", "5x5", "--kernel", "3x3", "--dilation", "-1"],
            "negative-dilation",
        ),
        (
            &["--input", "5x5", "--kernel", "3x3", "--scalar", "f16"],
            "bad-scalar",
        ),
        (
            &["--input", "5x5", "--kernel", "3x3", "--padding", "(1, 1)"],
            "padding-tuple-arity",
        ),
    ];
    for (args, ui) in cases {
        let expected = attribute_errors(ui);
        assert!(!expected.is_empty(), "{ui}.stderr has no error line");
        assert_eq!(errors(&failure(args)), expected, "{args:?} vs {ui}.stderr");
    }
}

#[test]
fn the_kernel_message_is_the_textbook_one() {
    let stderr = failure(&["--input", "5x5", "--kernel", "7x7"]);
    assert!(stderr.starts_with("error: kernel 7x7 is larger than input 5x5 with padding `valid`\n"));
}

#[test]
fn every_problem_is_reported() {
    let stderr = failure(&["--input", "0x5", "--kernel", "3X3"]);
    assert_eq!(errors(&stderr).len(), 2, "{stderr}");
}

#[test]
fn values_that_do_not_tokenize_are_errors() {
    for bad in ["\"5", "(5, 5", "5x5)", "'", "5x5, kernel = 3x3", ""] {
        let stderr = failure(&["--input", bad, "--kernel", "3x3"]);
        assert!(stderr.starts_with("error: `--input`"), "{bad:?}: {stderr}");
    }
    let stderr = failure(&["--input", "5x5", "--kernel", "3x3", "--name", "1x"]);
    assert!(stderr.starts_with("error: `--name`"), "{stderr}");
}

#[test]
fn full_is_refused_above_the_cell_limit() {
    let big = ["--input", "100x100", "--kernel", "1x1"];
    let stderr = failure(&strs(&with(&big, &["--full"])));
    assert!(
        stderr.contains("more than the limit of 1000000"),
        "{stderr}"
    );
    // The summary is written, and JSON lists counts only.
    assert!(stdout(&big).len() < 100_000);
    let json: serde_json::Value = serde_json::from_str(&format(&big, "json")).unwrap();
    assert_eq!(json["full"], false);
    assert!(json["dx"].get("sums").is_none());
}

#[test]
fn full_and_summary_change_the_detail() {
    let layer = ["--input", "12x12", "--kernel", "3x3"];
    let auto = stdout(&layer);
    let full = stdout(&strs(&with(&layer, &["--full"])));
    assert!(full.len() > auto.len());
    let summary = stdout(&strs(&with(TEXTBOOK, &["--summary"])));
    assert!(summary.len() < stdout(TEXTBOOK).len());
    let json = format(&layer, "json");
    assert!(json.contains("\"full\": false"));
    let json = stdout(&strs(&with(&layer, &["--format", "json", "--full"])));
    assert!(json.contains("\"full\": true"));
}

#[test]
fn output_writes_the_file() {
    let path = std::env::temp_dir().join(format!("conv-cli-test-{}.md", std::process::id()));
    let path_text = path.to_string_lossy().to_string();
    let args = with(TEXTBOOK, &["--format", "markdown", "--output", &path_text]);
    assert!(stdout(&strs(&args)).is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(written, format(TEXTBOOK, "markdown"));
}

#[test]
fn rust_is_the_emitted_code_with_the_given_name() {
    let code = stdout(&strs(&with(
        TEXTBOOK,
        &["--format", "rust", "--name", "Textbook"],
    )));
    assert!(code.contains("pub struct Textbook;"));
    assert!(code.contains("impl Textbook"));
}

#[test]
fn help_mentions_every_option() {
    let help = stdout(&["--help"]);
    for option in [
        "--input",
        "--kernel",
        "--stride",
        "--padding",
        "--dilation",
        "--in-channels",
        "--out-channels",
        "--scalar",
        "--unroll",
        "--format",
        "--full",
        "--summary",
        "--name",
        "--output",
        "--help",
        "--version",
    ] {
        assert!(help.contains(option), "--help does not mention {option}");
    }
    for format in ["markdown", "latex", "text", "svg", "json", "rust"] {
        assert!(help.contains(format), "--help does not mention {format}");
    }
    assert!(help.contains("Examples:") && help.contains("conv-derivation/1"));
}

#[test]
fn standalone_latex_is_a_complete_document_around_the_body() {
    let body = format(TEXTBOOK, "latex");
    let document = stdout(&strs(&with(
        TEXTBOOK,
        &["--format", "latex", "--standalone"],
    )));
    assert!(document.starts_with("\\documentclass{article}\n\\usepackage{amsmath}\n"));
    assert!(document.ends_with("\\end{document}\n"));
    assert!(document.contains(&body));
    assert!(document.is_ascii() && body.is_ascii());
    let stderr = failure(&strs(&with(
        TEXTBOOK,
        &["--format", "text", "--standalone"],
    )));
    assert_eq!(
        stderr,
        "error: `--standalone` applies to `--format latex` only\n"
    );
}

const MAX_POOL: &[&str] = &[
    "pool", "--kind", "max", "--input", "1x4x4", "--kernel", "2x2",
];
const AVERAGE_POOL: &[&str] = &[
    "pool", "--kind", "average", "--input", "2x5x5", "--kernel", "3x3", "--stride", "2",
];

#[test]
fn pool_snapshots() {
    for f in ["markdown", "latex", "text", "svg"] {
        insta::assert_snapshot!(format!("pool_max_{f}"), format(MAX_POOL, f));
    }
    insta::assert_snapshot!("pool_average_text", format(AVERAGE_POOL, "text"));
    // The stride defaults to the kernel, as PyTorch.
    let explicit = with(MAX_POOL, &["--stride", "2x2"]);
    assert_eq!(stdout(&strs(&explicit)), stdout(MAX_POOL));
}

#[test]
fn activation_flatten_and_loss_snapshots() {
    for name in ["relu", "leaky-relu", "tanh", "sigmoid"] {
        insta::assert_snapshot!(
            format!("activation_{name}_text"),
            stdout(&["activation", name])
        );
    }
    insta::assert_snapshot!(
        "activation_leaky_relu_alpha_latex",
        format(&["activation", "leaky-relu", "--alpha", "0.2"], "latex")
    );
    insta::assert_snapshot!("flatten_text", stdout(&["flatten", "--input", "2x1x3"]));
    for f in ["markdown", "latex", "text"] {
        insta::assert_snapshot!(format!("loss_{f}"), format(&["loss", "--classes", "3"], f));
    }
    for f in ["markdown", "latex", "text"] {
        insta::assert_snapshot!(
            format!("dense_{f}"),
            format(&["dense", "--inputs", "3", "--outputs", "2"], f)
        );
    }
}

#[test]
fn every_kind_draws_a_well_formed_svg() {
    let kinds: [(&str, &[&str], usize); 5] = [
        ("dense", &["dense", "--inputs", "3", "--outputs", "2"], 6),
        (
            "activation",
            &["activation", "sigmoid", "--input", "2x2"],
            4,
        ),
        ("flatten", &["flatten", "--input", "2x1x3"], 6),
        ("loss", &["loss", "--classes", "3"], 9),
        ("pool", MAX_POOL, 16),
    ];
    for (name, args, cells) in kinds {
        let svg = format(args, "svg");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(rects(&doc, "cell").len(), cells, "{name}");
        if name != "pool" {
            insta::assert_snapshot!(format!("{name}_svg"), svg);
        }
    }
    // The activation's picture defaults to a 1x4x4 input.
    let svg = format(&["activation", "relu"], "svg");
    assert!(svg.contains("ReLU, input 1x4x4"));
}

#[test]
fn pool_svg_is_well_formed_with_one_cell_per_window_entry() {
    let svg = format(MAX_POOL, "svg");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(rects(&doc, "cell").len(), 16);
}

#[test]
fn bad_layer_kinds_are_the_engines_messages() {
    let e = failure(&[
        "pool", "--kind", "max", "--input", "1x2x2", "--kernel", "3x3",
    ]);
    assert_eq!(
        e,
        "error: kernel 3x3 is larger than input 2x2 (pooling has no padding)\n"
    );
    let e = failure(&[
        "pool", "--kind", "max", "--input", "1x4", "--kernel", "2x", "--stride", "0",
    ]);
    assert_eq!(
        e,
        "error: `--kernel` takes KHxKW or K, like `2x2`, found `2x`\n"
    );
    let e = failure(&[
        "pool", "--kind", "average", "--input", "1x4x4", "--kernel", "2", "--stride", "0",
    ]);
    assert_eq!(e, "error: stride rows must be at least 1, found 0\n");
    let e = failure(&["loss", "--classes", "0"]);
    assert_eq!(e, "error: classes must be at least 1, found 0\n");
    let e = failure(&["activation", "relu", "--alpha", "0.1"]);
    assert_eq!(e, "error: `--alpha` applies to `leaky-relu` only\n");
    let e = failure(&["activation", "leaky-relu", "--alpha", "-1"]);
    assert!(e.contains("slope must be finite and at least 0"), "{e}");
    let e = failure(&["activation", "relu", "--input", "1x4x4"]);
    assert_eq!(
        e,
        "error: `--input` applies to `--format svg` only: the rule is the same for every size\n"
    );
    let e = failure(&["activation", "relu", "--input", "0x4", "--format", "svg"]);
    assert_eq!(
        e,
        "error: `--input` sizes must be at least 1, found 1x0x4\n"
    );
    let e = failure(&["loss", "--classes", "1001", "--format", "svg"]);
    assert_eq!(
        e,
        "error: `--format svg` would draw a Jacobian of 1002001 nonzero entries, more than the \
         limit of 1000000\n"
    );
    let huge = ["activation", "relu", "--format", "svg", "--input"];
    let e = failure(&strs(&with(&huge, &["99999999999x99999999999x9"])));
    assert!(e.contains("more than the limit"), "{e}");
    let e = failure(&["dense", "--inputs", "0", "--outputs", "2"]);
    assert_eq!(
        e,
        "error: a dense layer needs at least 1 input and 1 output, found 0 -> 2\n"
    );
}

/// A file under this package, as an argument.
fn file(relative: &str) -> String {
    format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn network_prints_lenet_layer_and_memory_tables() {
    let lenet = file("../conv-examples/lenet/src/lib.rs");
    let out = stdout(&["network", &lenet]);
    insta::assert_snapshot!("network_lenet", out);
    // One network in the file: `--name` selects the same one.
    assert_eq!(stdout(&["network", &lenet, "--name", "LeNet5"]), out);
}

#[test]
fn network_finds_every_network_in_a_file_and_picks_one_by_name() {
    let two = file("tests/network/two.rs");
    let all = stdout(&["network", &two]);
    let headings: Vec<&str> = all
        .lines()
        .filter(|l| l.starts_with("# ") && !l.contains("Memory") && !l.contains("Derivations"))
        .collect();
    assert_eq!(headings, ["# Odd", "# Inner"]);
    let inner = stdout(&["network", &two, "--name", "Inner"]);
    assert!(inner.starts_with("# Inner\n"), "{inner}");
    assert!(
        all.ends_with(&inner),
        "the named network is printed as in the whole file"
    );
    // conv 3x3 2->2: 2*2*9 + 2 = 38; 2x2x2 pooled -> dense 3: 8*3 + 3 = 27; 65 f32.
    assert!(inner.contains("| parameters | 260 |"), "{inner}");
}

#[test]
fn network_problems_are_messages_with_exit_code_1() {
    let missing = file("tests/network/missing.rs");
    assert!(failure(&["network", &missing]).contains("error: cannot read"));
    let main = file("src/main.rs");
    assert!(failure(&["network", &main]).contains("no struct with a `#[network(...)]` attribute"));
    let two = file("tests/network/two.rs");
    assert!(failure(&["network", &two, "--name", "Plain"])
        .contains("no `#[network]` struct named `Plain`"));
    let readme = file("tests/network/README.md");
    assert!(failure(&["network", &readme]).contains("not Rust source"));
    let invalid = failure(&["network", &file("tests/network/invalid.rs")]);
    assert!(
        invalid.contains(
            "invalid.rs:3:24: `Broken`: layer `c1` (input 1x4x4): kernel 5x5 is larger than \
             input 4x4 with padding `valid`"
        ),
        "{invalid}"
    );
}
