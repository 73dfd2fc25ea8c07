//! telegram adapter.
pub mod fake_api;
