//! The school's catalog: programs, courses, groups, lessons and the final test bank.
//! Loaded from `dialogues/catalog*.toml` by `catalog import`, read back from the store.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The three kinds of program the instruction names; each issues its own document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// Повышение квалификации → удостоверение о повышении квалификации.
    Qualification,
    /// Профессиональная переподготовка → диплом о профессиональной переподготовке.
    Retraining,
    /// Профессиональное обучение → свидетельство о профессии рабочего, должности служащего.
    Vocational,
}

impl ProgramKind {
    pub const ALL: [ProgramKind; 3] = [Self::Qualification, Self::Retraining, Self::Vocational];

    pub fn code(self) -> &'static str {
        match self {
            Self::Qualification => "qualification",
            Self::Retraining => "retraining",
            Self::Vocational => "vocational",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The qualification document a course issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Certificate,  // удостоверение о повышении квалификации
    Diploma,      // диплом о профессиональной переподготовке
    Svidetelstvo, // свидетельство о профессии рабочего, должности служащего
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Certificate => "certificate",
            Self::Diploma => "diploma",
            Self::Svidetelstvo => "svidetelstvo",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Certificate, Self::Diploma, Self::Svidetelstvo]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The document a program kind issues by law (273-ФЗ, ст. 60).
    pub fn for_program(kind: ProgramKind) -> Self {
        match kind {
            ProgramKind::Qualification => Self::Certificate,
            ProgramKind::Retraining => Self::Diploma,
            ProgramKind::Vocational => Self::Svidetelstvo,
        }
    }
}

/// Money in kopecks: no floating point near prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(pub i64);

impl Money {
    pub fn kopecks(self) -> i64 {
        self.0
    }
    /// "12500.00", the form YooKassa expects.
    pub fn to_decimal_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
    /// "12 500 ₽" (or "12 500,50 ₽") for learners.
    pub fn display_rub(self) -> String {
        let rub = self.0 / 100;
        let kop = self.0 % 100;
        let digits = rub.to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('\u{a0}');
            }
            grouped.push(ch);
        }
        if kop == 0 {
            format!("{grouped}\u{a0}₽")
        } else {
            format!("{grouped},{kop:02}\u{a0}₽")
        }
    }
}

/// The offer contract (договор-оферта) a learner accepts before paying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub title: String,
    pub version: String,
    /// Public link to the document.
    pub url: String,
    /// SHA-256 (hex) of the document's text as published: the evidence of what was accepted.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub topic: String,
    /// MTS Link event session id, when the webinar is on that platform.
    pub webinar_session_id: Option<String>,
    pub materials: Vec<Link>,
    pub recording_url: Option<String>,
}

impl Lesson {
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(i64::from(self.duration_minutes))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The final test opens on this day; `None`: after the last lesson.
    pub test_opens_on: Option<NaiveDate>,
    /// The group's general webinar room, used when no personal link can be had.
    pub webinar_url: String,
    pub lessons: Vec<Lesson>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Multiple,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub kind: QuestionKind,
    pub options: Vec<String>,
    /// Indexes into `options` of the right answers.
    pub correct: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Share of right answers needed to pass, in percent.
    pub pass_percent: u32,
    pub max_attempts: u32,
    pub pause_minutes: u32,
    pub time_limit_minutes: Option<u32>,
    /// How many questions an attempt draws from the bank (all when `None`).
    pub questions_per_attempt: Option<u32>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub id: String,
    pub program: ProgramKind,
    pub title: String,
    pub description: String,
    pub hours: u32,
    pub price: Money,
    /// "Онлайн, вебинары", "Заочная с применением ДОТ", …
    pub format: String,
    pub document: DocumentKind,
    /// The course's own offer, or the school's when `None`.
    pub offer: Option<Offer>,
    pub attestation: Attestation,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Catalog {
    pub school_offer: Option<Offer>,
    pub courses: Vec<Course>,
}

impl Catalog {
    pub fn course(&self, id: &str) -> Option<&Course> {
        self.courses.iter().find(|c| c.id == id)
    }

    pub fn group(&self, id: &str) -> Option<(&Course, &Group)> {
        self.courses
            .iter()
            .find_map(|c| c.groups.iter().find(|g| g.id == id).map(|g| (c, g)))
    }

    pub fn courses_in(&self, program: ProgramKind) -> impl Iterator<Item = &Course> {
        self.courses.iter().filter(move |c| c.program == program)
    }

    /// The offer that governs a course.
    pub fn offer_for<'a>(&'a self, course: &'a Course) -> Option<&'a Offer> {
        course.offer.as_ref().or(self.school_offer.as_ref())
    }
}

impl Course {
    /// The next group a learner can still join on `today`: the earliest that has not ended.
    pub fn next_group(&self, today: NaiveDate) -> Option<&Group> {
        self.groups
            .iter()
            .filter(|g| g.ends_on >= today)
            .min_by_key(|g| g.starts_on)
    }
}
