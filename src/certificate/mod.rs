//! The electronic sample of the qualification document (instruction, step 6): after the
//! final test the learner gets a PDF of their удостоверение, диплом or свидетельство and
//! checks how their name is spelled before staff print it on the official blank.
//!
//! Pure: [`render_sample`] turns data and wording into PDF bytes, the same bytes for the
//! same input. The wording comes from Fluent through [`SampleWording::from_fluent`].
mod date_ru;
mod fonts;
mod layout;
pub mod pdf;
mod wording;

pub use date_ru::format_date_ru;
pub use pdf::{render_sample, sha256_hex, Field, RenderError, PAGE_HEIGHT_PT, PAGE_WIDTH_PT};
pub use wording::{gender_by_patronymic, Gender, SampleWording, WordingError};

use chrono::NaiveDate;

use crate::domain::catalog::DocumentKind;

/// What the sample states about the learner and the course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleData {
    pub document: DocumentKind,
    /// «Иванова Мария Сергеевна», as it will be printed on the blank.
    pub full_name: String,
    pub program_title: String,
    /// Volume of the program in academic hours.
    pub hours: u32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// «ПК-2026-000123».
    pub registration_number: String,
    pub issued_on: NaiveDate,
    /// The school's name as it reads after «в» in the body sentence.
    pub school_name: String,
    pub city: String,
}
