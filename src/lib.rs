//! uchbot: the Telegram and email assistant of a continuing-education provider.
pub mod app;
pub mod catalog;
pub mod certificate;
pub mod cli;
pub mod config;
pub mod domain;
pub mod email;
pub mod http;
pub mod journey;
pub mod payments;
pub mod scheduler;
pub mod serve;
pub mod shell;
pub mod store;
pub mod telegram;
pub mod texts;
pub mod webinar;
