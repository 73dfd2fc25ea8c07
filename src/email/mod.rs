//! email adapter.
