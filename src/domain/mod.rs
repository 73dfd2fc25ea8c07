//! Pure types and rules of the school: no I/O here.
pub mod catalog;
pub mod personal;
pub mod tracking;
