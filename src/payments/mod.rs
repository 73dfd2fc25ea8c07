//! payments adapter.
