//! uchbot: the Telegram and email assistant of a continuing-education provider.
pub mod catalog;
pub mod certificate;
pub mod domain;
pub mod email;
pub mod payments;
pub mod telegram;
pub mod webinar;
