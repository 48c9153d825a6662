//! The test and benchmark suite of the conv2d workspace: integration tests in `tests/`,
//! criterion benchmarks in `benches/`, and two tools in `examples/` (`expand`, the code the macro
//! emits; `bench_report`, which writes `BENCHMARKS.md`). The README's examples live in the
//! `conv-examples` packages, so that running them does not build this package's
//! dev-dependencies. The library itself is empty.

/// The README's Rust examples, compiled and run as doc tests (`cargo test --workspace`), so the
/// array types and values it shows are the real ones.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
