//! Integration tests, examples and benchmarks of the conv2d workspace live in this package's
//! `tests/`, `examples/` and `benches/`; the library itself is empty.
