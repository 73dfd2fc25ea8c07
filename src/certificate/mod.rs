//! certificate adapter.
