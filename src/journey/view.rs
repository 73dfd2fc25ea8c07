//! What the journey knows of a learner when it decides: a snapshot read from the store
//! before each step, so the state machine itself does no I/O.
use std::collections::BTreeMap;

use super::documents::DocKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    NotAsked,
    Given { version: String },
    Refused,
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    pub email: String,
    pub code_hash: String,
    pub attempts_left: i64,
    pub sends: i64,
    pub sent_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Canceled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    pub id: String,
    pub status: PaymentStatus,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStatus {
    Received,
    Accepted,
    Returned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocView {
    pub id: i64,
    pub kind: DocKind,
    pub file_name: String,
    pub status: DocStatus,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Pending,
    Accepted,
    Returned { note: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentView {
    pub id: i64,
    pub course_id: String,
    pub group_id: String,
    /// The order's number as the learner and staff see it.
    pub order_id: i64,
    pub order_status: OrderStatus,
    pub amount_kopecks: i64,
    pub payment: Option<PaymentView>,
    pub form: BTreeMap<String, String>,
    pub form_completed: bool,
    /// Current documents (replaced ones are not shown).
    pub documents: Vec<DocView>,
    pub enrolled: bool,
    pub review: Option<Review>,
    /// Attempts at the final test, by number.
    pub attempts: Vec<AttemptView>,
    /// The qualification document, once its sample was made.
    pub certificate: Option<CertificateView>,
}

/// One attempt at the final test: its questions as drawn and shuffled for it, the answers
/// so far (positions in the shown order), and the token the question on screen carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptView {
    pub number: i64,
    pub plan: Vec<super::attestation::PlannedQuestion>,
    pub answers: Vec<Vec<u8>>,
    /// Marks on the multiple-choice question on screen, not yet answered with «Готово».
    pub marks: Vec<u8>,
    pub current: usize,
    pub token: String,
    pub started_at: i64,
    /// The time limit, when the course sets one.
    pub deadline_at: Option<i64>,
    pub result: Option<AttemptResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub finished_at: i64,
    pub score: i64,
    pub total: i64,
    pub passed: bool,
    pub ended_by: super::attestation::EndedBy,
}

impl AttemptView {
    pub fn active(&self) -> bool {
        self.result.is_none()
    }
}

/// The qualification document of an enrollment: the data on its sample and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateView {
    pub registration_number: String,
    pub full_name: String,
    pub postal_address: String,
    /// Each correction makes a new sample version; buttons name the version they are for.
    pub version: i64,
    pub confirmed: bool,
    pub printed: bool,
    pub tracking_number: Option<String>,
}

impl EnrollmentView {
    pub fn paid(&self) -> bool {
        self.order_status == OrderStatus::Paid
    }

    pub fn docs_of(&self, kind: DocKind) -> impl Iterator<Item = &DocView> {
        self.documents.iter().filter(move |d| d.kind == kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerView {
    pub id: i64,
    pub tg_user_id: Option<i64>,
    pub display_name: String,
    pub consent: Consent,
    pub email: Option<String>,
    pub pending_code: Option<PendingCode>,
    /// Fields of the learner's last completed application, to prefill a new one.
    pub previous_form: BTreeMap<String, String>,
    pub enrollments: Vec<EnrollmentView>,
    /// The time zone the learner chose; `None`: not asked yet (the school's is used).
    pub timezone: Option<chrono_tz::Tz>,
    /// Mailed files whose kind is not known yet, (document id, file name), oldest first:
    /// letters number them in this order.
    pub unsorted: Vec<(i64, String)>,
    /// The learner's own token (plus addresses, the deep link that links a Telegram
    /// account to a learner known by email).
    pub mail_token: Option<String>,
}

impl LearnerView {
    pub fn consented(&self, version: &str) -> bool {
        matches!(&self.consent, Consent::Given { version: v } if v == version)
    }

    pub fn enrollment(&self, id: i64) -> Option<&EnrollmentView> {
        self.enrollments.iter().find(|e| e.id == id)
    }

    pub fn enrollment_in(&self, group_id: &str) -> Option<&EnrollmentView> {
        self.enrollments.iter().find(|e| e.group_id == group_id)
    }
}
