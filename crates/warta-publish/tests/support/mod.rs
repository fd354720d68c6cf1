//! Helpers for the integration tests: a real WordPress started by `tests/wordpress/harness.sh`
//! and a TCP proxy that injects faults.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod wordpress_harness;
