//! The textbook layer's standalone LaTeX document, and the LaTeX of every other layer kind in the
//! same preamble, compile with pdflatex. Skipped (with a note on standard output, not a failure)
//! when `pdflatex` is not on `PATH`.

use conv_engine::{derive::Derivation, GeometrySpec};
use std::process::Command;

fn textbook() -> String {
    let geometry = GeometrySpec::new([5, 5], [3, 3])
        .resolve()
        .expect("5x5 with 3x3 resolves");
    Derivation::new(&geometry).to_latex_document()
}

#[test]
fn the_textbook_document_compiles_with_pdflatex() {
    compiles("textbook", &textbook());
}

/// The dense layer's, pooling's, each activation's, flatten's and the loss's LaTeX, small enough
/// for full tables, in the textbook document's preamble.
#[test]
fn every_other_kind_compiles_with_pdflatex() {
    use conv_engine::derive::activation::{Activation, Slope};
    use conv_engine::derive::pool::{Pool, PoolKind};
    use conv_engine::derive::{dense::Dense, flatten::Flatten, loss::SoftmaxCrossEntropy};
    use conv_engine::explain::{self, Detail, Format};
    let doc = textbook();
    let (preamble, _) = doc.split_once("\\begin{document}").expect("a document");
    let mut body = explain::dense::latex(&Dense::new(3, 2));
    for kind in [PoolKind::Max, PoolKind::Average] {
        let pool = Pool::new(kind, [1, 4, 4], [2, 2], [2, 2]).expect("valid");
        body += &explain::pool::render(&pool, Format::Latex, Detail::Full);
    }
    let slope = Slope::new(0.01).expect("valid");
    for a in [
        Activation::Relu,
        Activation::LeakyRelu(slope),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        body += &explain::activation::latex(&a);
    }
    let flatten = Flatten::new([2, 2, 2]).expect("valid");
    body += &explain::flatten::render(&flatten, Format::Latex, Detail::Full);
    let loss = SoftmaxCrossEntropy::new(3).expect("valid");
    body += &explain::loss::render(&loss, Format::Latex, Detail::Full);
    compiles(
        "kinds",
        &format!("{preamble}\\begin{{document}}\n{body}\n\\end{{document}}\n"),
    );
}

fn compiles(name: &str, tex: &str) {
    if Command::new("pdflatex").arg("--version").output().is_err() {
        println!("SKIPPED: pdflatex not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "conv-engine-pdflatex-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join(format!("{name}.tex")), tex).expect("the document written");
    let run = Command::new("pdflatex")
        .args([
            "-interaction=nonstopmode",
            "-halt-on-error",
            &format!("{name}.tex"),
        ])
        .current_dir(&dir)
        .output()
        .expect("pdflatex runs");
    let log = std::fs::read_to_string(dir.join(format!("{name}.log")))
        .unwrap_or_else(|_| String::from_utf8_lossy(&run.stdout).into_owned());
    let pdf = dir.join(format!("{name}.pdf"));
    let made = pdf.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success(), "pdflatex failed:\n{log}");
    assert!(made > 0, "pdflatex wrote no PDF:\n{log}");
    // Every symbol is a command: no character pdflatex had to guess at or drop.
    assert!(!log.contains("Missing character"), "{log}");
}
