//! uchbot: the Telegram and email assistant of a continuing-education provider.
pub mod catalog;
pub mod certificate;
pub mod config;
pub mod domain;
pub mod email;
pub mod payments;
pub mod store;
pub mod telegram;
pub mod texts;
pub mod webinar;
