//! Compile-time behaviour (trybuild): every bad attribute or target is one spanned error; valid
//! layers compile and run; the compile-time proof rejects a wrong term.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/attribute/*.rs");
    t.compile_fail("tests/ui/target/*.rs");
    t.compile_fail("tests/ui/proof/*.rs");
    t.compile_fail("tests/ui/planted/*.rs");
    t.compile_fail("tests/ui/train/*.rs");
    t.compile_fail("tests/ui/network/*.rs");
}
