//! Webinar adapter: personal links from MTS Link (webinar.ru) for learners.
//!
//! When no personal link can be had (no session id on the lesson, or any [`WebinarError`]),
//! the learner gets the group's general webinar room (`Group::webinar_url`) instead.
pub mod mts_link;

pub use crate::payments::RetryPolicy;
pub use mts_link::{ConfigError, MtsLink, MtsLinkParams, PersonalLink, Registration, WebinarError};
