//! The published crates carry copies of workspace test data so that their tests run from the
//! package: the golden cases in `conv-runtime/tests/golden/integer/` and the attribute's
//! expected errors in `conv-cli/tests/attribute/`. Each copy must still be byte-for-byte the
//! workspace's file.

use std::path::Path;

/// Every file of `copies` (but its README) is the file of the same name in `originals`; returns
/// how many were compared.
fn same_files(copies: &str, originals: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut compared = 0;
    for entry in std::fs::read_dir(root.join(copies)).expect("the copies' directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().expect("a file name").to_owned();
        if name == "README.md" {
            continue;
        }
        let original = root.join(originals).join(&name);
        let (copy, original) = (std::fs::read(&path), std::fs::read(&original));
        assert!(
            matches!((&copy, &original), (Ok(a), Ok(b)) if a == b),
            "{} differs from {originals}/{} (or one is missing)",
            path.display(),
            name.to_string_lossy()
        );
        compared += 1;
    }
    compared
}

#[test]
fn conv_runtime_golden_cases_are_the_workspace_ones() {
    let copied = same_files("conv-runtime/tests/golden/integer", "tests/golden/integer");
    let all = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/integer"))
        .expect("the workspace's golden directory")
        .count();
    assert_eq!(copied, all, "every golden case is copied");
}

#[test]
fn conv_cli_expected_errors_are_the_ui_tests_ones() {
    assert_eq!(
        same_files("conv-cli/tests/attribute", "tests/ui/attribute"),
        8
    );
}
