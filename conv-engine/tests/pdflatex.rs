//! The textbook layer's standalone LaTeX document compiles with pdflatex. Skipped (with a note on
//! standard output, not a failure) when `pdflatex` is not on `PATH`.

use conv_engine::{derive::Derivation, GeometrySpec};
use std::process::Command;

#[test]
fn the_textbook_document_compiles_with_pdflatex() {
    if Command::new("pdflatex").arg("--version").output().is_err() {
        println!("SKIPPED: pdflatex not installed");
        return;
    }
    let geometry = GeometrySpec::new([5, 5], [3, 3])
        .resolve()
        .expect("5x5 with 3x3 resolves");
    let tex = Derivation::new(&geometry).to_latex_document();
    let dir = std::env::temp_dir().join(format!("conv-engine-pdflatex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join("textbook.tex"), tex).expect("the document written");
    let run = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "textbook.tex"])
        .current_dir(&dir)
        .output()
        .expect("pdflatex runs");
    let log = std::fs::read_to_string(dir.join("textbook.log"))
        .unwrap_or_else(|_| String::from_utf8_lossy(&run.stdout).into_owned());
    let pdf = dir.join("textbook.pdf");
    let made = pdf.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success(), "pdflatex failed:\n{log}");
    assert!(made > 0, "pdflatex wrote no PDF:\n{log}");
    // Every symbol is a command: no character pdflatex had to guess at or drop.
    assert!(!log.contains("Missing character"), "{log}");
}
