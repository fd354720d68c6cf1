//! Media benchmark.
fn main() {}
