//! Helpers for `publish_kill.rs`: a real WordPress started by `tests/wordpress/harness.sh`, and
//! a loopback proxy that holds a chosen request while the test kills the hub. (Adapted from
//! `crates/warta-publish/tests/support/`; test support cannot be shared across crates.)
#![allow(dead_code)]

pub mod hold_proxy;
pub mod wordpress_harness;
