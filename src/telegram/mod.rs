//! The Telegram channel: teloxide dispatch, rendering replies into Bot API calls, and a
//! faithful local Bot API for tests and `uchbot shell`.
pub mod bot;
pub mod fake_api;
pub mod handlers;
pub mod inbox;
pub mod limiter;
pub mod runner;
pub mod split;
pub mod staff_setup;
