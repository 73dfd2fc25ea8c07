//! Callback data of inline buttons: a compact text form (Telegram allows 64 bytes) that is
//! parsed strictly. Data never carries an answer or a price: only references the server
//! checks against the learner's own records.
use crate::domain::catalog::ProgramKind;

use super::application::Field;
use super::documents::DocKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Consent(bool),
    Catalog,
    Section(ProgramKind, u8),
    Course(String),
    Enroll(String),
    AcceptOffer(String),
    Pay(i64),
    CheckPayment(i64),
    DemoPay(i64),
    ResendCode,
    ChangeEmail,
    Status,
    Form(i64),
    FormKeep(i64, Field),
    FormChoice(i64, Field, u8),
    FormConfirm(i64),
    FormEdit(i64, Option<Field>),
    Docs(i64),
    DocAdd(i64, DocKind),
    DocReplace(i64, DocKind),
    Submit(i64),
    /// Withdraw consent and destroy personal data (asked first by `/forget`).
    ForgetConfirm,
    /// Staff: accept the whole application file.
    StaffAccept(i64),
    /// Staff: choose which document of the file to return.
    StaffReturn(i64),
    /// Staff: return this document (the reason is asked next).
    StaffReturnDoc(i64),
    /// Staff: a signed staff action (`app::staff_auth` encodes, signs and checks it).
    Staff(String),
    /// The learner's schedule.
    Schedule,
    /// Materials and recordings of past lessons («Пройти обучение»).
    Materials,
    /// One past lesson's materials.
    LessonMaterials(String),
    /// The learner's time zone, as its UTC offset in hours (Russia: 2 to 12).
    TimeZone(u8),
    /// Ask the time zone again.
    ChangeTimeZone,
    /// This mailed file (a document id) is a document of this kind.
    DocSort(i64, DocKind),
    /// The final test: what is open («📝 Итоговая аттестация», `/test`).
    Test,
    /// Start an attempt at the final test of an enrollment (or the next one).
    TestStart(i64),
    /// An answer on a question of an attempt: single choice answers, multiple choice toggles
    /// the mark. The position is in the order this attempt shows the options; the token is
    /// the one the question on screen was shown with, so an older press does not match.
    TestAnswer(TestKey, u8),
    /// «Готово» on a multiple-choice question.
    TestDone(TestKey),
    /// «ФИО и адрес верны» on a sample of this version.
    SampleConfirm(i64, i64),
    /// Correct the name on the sample of this version.
    SampleName(i64, i64),
    /// Correct the postal address of the sample of this version.
    SampleAddress(i64, i64),
}

/// Which question of which attempt a test button is for: enrollment, attempt number,
/// question index, and the question's token (8 hex digits, rotated on every change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestKey {
    pub enrollment: i64,
    pub attempt: i64,
    pub index: u8,
    pub token: String,
}

impl TestKey {
    fn encode(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.enrollment, self.attempt, self.index, self.token
        )
    }

    fn parse(e: &str, n: &str, i: &str, token: &str) -> Option<Self> {
        let token_ok = token.len() == 8
            && token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !token_ok || i.len() > 3 || (i.len() > 1 && i.starts_with('0')) {
            return None;
        }
        Some(Self {
            enrollment: id(e)?,
            attempt: id(n)?,
            index: i.parse().ok()?,
            token: token.to_owned(),
        })
    }
}

fn small(n: &str) -> Option<u8> {
    (n.len() <= 2 && !(n.len() > 1 && n.starts_with('0')))
        .then(|| n.parse().ok())
        .flatten()
}

fn program_code(p: ProgramKind) -> char {
    match p {
        ProgramKind::Qualification => 'q',
        ProgramKind::Retraining => 'r',
        ProgramKind::Vocational => 'v',
    }
}

fn program_from(c: &str) -> Option<ProgramKind> {
    match c {
        "q" => Some(ProgramKind::Qualification),
        "r" => Some(ProgramKind::Retraining),
        "v" => Some(ProgramKind::Vocational),
        _ => None,
    }
}

/// Catalog ids as the catalog file allows them: keeps data short and unambiguous.
fn catalog_id(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then(|| s.to_owned())
}

fn id(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n > 0 && s.len() <= 19 && !s.starts_with('0') && !s.starts_with('+')).then_some(n)
}

impl Action {
    pub fn encode(&self) -> String {
        match self {
            Self::Consent(yes) => format!("cs:{}", u8::from(*yes)),
            Self::Catalog => "cat".into(),
            Self::Section(p, page) => format!("sec:{}:{page}", program_code(*p)),
            Self::Course(c) => format!("crs:{c}"),
            Self::Enroll(g) => format!("enr:{g}"),
            Self::AcceptOffer(g) => format!("ofr:{g}"),
            Self::Pay(e) => format!("pay:{e}"),
            Self::CheckPayment(e) => format!("chk:{e}"),
            Self::DemoPay(e) => format!("demo:{e}"),
            Self::ResendCode => "rc".into(),
            Self::ChangeEmail => "ce".into(),
            Self::Status => "st".into(),
            Self::Form(e) => format!("frm:{e}"),
            Self::FormKeep(e, f) => format!("fk:{e}:{}", f.key()),
            Self::FormChoice(e, f, n) => format!("fc:{e}:{}:{n}", f.key()),
            Self::FormConfirm(e) => format!("fok:{e}"),
            Self::FormEdit(e, None) => format!("fed:{e}"),
            Self::FormEdit(e, Some(f)) => format!("fed:{e}:{}", f.key()),
            Self::Docs(e) => format!("doc:{e}"),
            Self::DocAdd(e, k) => format!("dad:{e}:{}", k.key()),
            Self::DocReplace(e, k) => format!("drp:{e}:{}", k.key()),
            Self::Submit(e) => format!("sub:{e}"),
            Self::ForgetConfirm => "fgt".into(),
            Self::StaffAccept(e) => format!("sa:{e}"),
            Self::StaffReturn(e) => format!("sr:{e}"),
            Self::StaffReturnDoc(d) => format!("srd:{d}"),
            Self::Staff(token) => format!("!{token}"),
            Self::Schedule => "sch".into(),
            Self::Materials => "mat".into(),
            Self::LessonMaterials(l) => format!("lm:{l}"),
            Self::TimeZone(offset) => format!("tz:{offset}"),
            Self::ChangeTimeZone => "tzc".into(),
            Self::DocSort(d, k) => format!("dso:{d}:{}", k.key()),
            Self::Test => "tst".into(),
            Self::TestStart(e) => format!("ts:{e}"),
            Self::TestAnswer(key, n) => format!("ta:{}:{n}", key.encode()),
            Self::TestDone(key) => format!("td:{}", key.encode()),
            Self::SampleConfirm(e, v) => format!("sc:{e}:{v}"),
            Self::SampleName(e, v) => format!("sn:{e}:{v}"),
            Self::SampleAddress(e, v) => format!("sd:{e}:{v}"),
        }
    }

    /// Parses callback data; anything malformed, too long or unknown is `None`.
    pub fn parse(data: &str) -> Option<Self> {
        if data.len() > 64 {
            return None;
        }
        if let Some(token) = data.strip_prefix('!') {
            let ok = !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            return ok.then(|| Self::Staff(token.to_owned()));
        }
        let parts: Vec<&str> = data.split(':').collect();
        Some(match parts.as_slice() {
            ["cs", "1"] => Self::Consent(true),
            ["cs", "0"] => Self::Consent(false),
            ["cat"] => Self::Catalog,
            ["sec", p, page] if page.len() <= 2 => {
                Self::Section(program_from(p)?, page.parse().ok()?)
            }
            ["crs", c] => Self::Course(catalog_id(c)?),
            ["enr", g] => Self::Enroll(catalog_id(g)?),
            ["ofr", g] => Self::AcceptOffer(catalog_id(g)?),
            ["pay", e] => Self::Pay(id(e)?),
            ["chk", e] => Self::CheckPayment(id(e)?),
            ["demo", e] => Self::DemoPay(id(e)?),
            ["rc"] => Self::ResendCode,
            ["ce"] => Self::ChangeEmail,
            ["st"] => Self::Status,
            ["frm", e] => Self::Form(id(e)?),
            ["fk", e, f] => Self::FormKeep(id(e)?, Field::from_key(f)?),
            ["fc", e, f, n] if n.len() <= 2 => {
                Self::FormChoice(id(e)?, Field::from_key(f)?, n.parse().ok()?)
            }
            ["fok", e] => Self::FormConfirm(id(e)?),
            ["fed", e] => Self::FormEdit(id(e)?, None),
            ["fed", e, f] => Self::FormEdit(id(e)?, Some(Field::from_key(f)?)),
            ["doc", e] => Self::Docs(id(e)?),
            ["dad", e, k] => Self::DocAdd(id(e)?, DocKind::from_key(k)?),
            ["drp", e, k] => Self::DocReplace(id(e)?, DocKind::from_key(k)?),
            ["sub", e] => Self::Submit(id(e)?),
            ["fgt"] => Self::ForgetConfirm,
            ["sa", e] => Self::StaffAccept(id(e)?),
            ["sr", e] => Self::StaffReturn(id(e)?),
            ["srd", d] => Self::StaffReturnDoc(id(d)?),
            ["sch"] => Self::Schedule,
            ["mat"] => Self::Materials,
            ["lm", l] => Self::LessonMaterials(catalog_id(l)?),
            ["tz", n] if n.len() <= 2 && !n.starts_with('0') => {
                let offset: u8 = n.parse().ok()?;
                if !(2..=12).contains(&offset) {
                    return None;
                }
                Self::TimeZone(offset)
            }
            ["tzc"] => Self::ChangeTimeZone,
            ["dso", d, k] => Self::DocSort(id(d)?, DocKind::from_key(k)?),
            ["tst"] => Self::Test,
            ["ts", e] => Self::TestStart(id(e)?),
            ["ta", e, n, i, token, choice] => {
                Self::TestAnswer(TestKey::parse(e, n, i, token)?, small(choice)?)
            }
            ["td", e, n, i, token] => Self::TestDone(TestKey::parse(e, n, i, token)?),
            ["sc", e, v] => Self::SampleConfirm(id(e)?, id(v)?),
            ["sn", e, v] => Self::SampleName(id(e)?, id(v)?),
            ["sd", e, v] => Self::SampleAddress(id(e)?, id(v)?),
            _ => return None,
        })
    }

    pub fn is_staff(&self) -> bool {
        matches!(
            self,
            Self::StaffAccept(_) | Self::StaffReturn(_) | Self::StaffReturnDoc(_) | Self::Staff(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn samples() -> Vec<Action> {
        vec![
            Action::Consent(true),
            Action::Consent(false),
            Action::Catalog,
            Action::Section(ProgramKind::Retraining, 3),
            Action::Course("pk-fgos-72".into()),
            Action::Enroll("pk-fgos-2026-12".into()),
            Action::AcceptOffer("a".repeat(40)),
            Action::Pay(12),
            Action::CheckPayment(i64::MAX),
            Action::DemoPay(1),
            Action::ResendCode,
            Action::ChangeEmail,
            Action::Status,
            Action::Form(5),
            Action::FormKeep(5, Field::Email),
            Action::FormChoice(5, Field::Education, 2),
            Action::FormConfirm(5),
            Action::FormEdit(5, None),
            Action::FormEdit(5, Some(Field::Snils)),
            Action::Docs(5),
            Action::DocAdd(5, DocKind::Passport),
            Action::DocReplace(5, DocKind::NameChange),
            Action::Submit(5),
            Action::ForgetConfirm,
            Action::StaffAccept(5),
            Action::StaffReturn(5),
            Action::StaffReturnDoc(77),
            Action::Staff("a5.AbC-d_e9Xy".into()),
            Action::Schedule,
            Action::Materials,
            Action::LessonMaterials("pk-fgos-2026-11-l1".into()),
            Action::LessonMaterials("l".repeat(40)),
            Action::TimeZone(2),
            Action::TimeZone(12),
            Action::ChangeTimeZone,
            Action::DocSort(77, DocKind::Education),
            Action::Test,
            Action::TestStart(5),
            Action::TestAnswer(key(), 3),
            Action::TestAnswer(
                TestKey {
                    enrollment: i64::MAX,
                    attempt: 99,
                    index: 255,
                    token: "ffffffff".into(),
                },
                99,
            ),
            Action::TestDone(key()),
            Action::SampleConfirm(5, 2),
            Action::SampleName(5, 1),
            Action::SampleAddress(5, 1),
        ]
    }

    fn key() -> TestKey {
        TestKey {
            enrollment: 5,
            attempt: 1,
            index: 0,
            token: "0a1b2c3d".into(),
        }
    }

    #[test]
    fn every_action_round_trips_within_telegram_limits() {
        for a in samples() {
            let data = a.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Action::parse(&data), Some(a));
        }
    }

    #[test]
    fn tampered_data_is_refused() {
        for bad in [
            "",
            "cs",
            "cs:2",
            "crs:",
            "crs:UPPER",
            "crs:a/b",
            "pay:0",
            "pay:-1",
            "pay:01",
            "pay:+5",
            "pay:1:2",
            "sec:x:0",
            "sec:q:999",
            "fk:1:unknown",
            "sa:",
            "srd:abc",
            "!",
            "!a5 b",
            "!a5/x",
            "enr:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "tz:1",
            "tz:13",
            "tz:03",
            "tz:-3",
            "tz:",
            "lm:",
            "lm:A1",
            "sch:1",
            "ta:5:1:0:0a1b2c3d",
            "ta:5:1:0:0A1B2C3D:1",
            "ta:5:1:0:0a1b2c3:1",
            "ta:5:1:0:0a1b2c3dd:1",
            "ta:5:1:0:0a1b2c3g:1",
            "ta:5:0:0:0a1b2c3d:1",
            "ta:5:1:01:0a1b2c3d:1",
            "ta:5:1:256:0a1b2c3d:1",
            "ta:5:1:0:0a1b2c3d:100",
            "ta:5:1:0:0a1b2c3d:01",
            "ta:5:1:0:0a1b2c3d:-1",
            "td:5:1:0:0a1b2c3d:1",
            "ts:0",
            "sc:5",
            "sc:5:0",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,80}") {
            let _ = Action::parse(&s);
        }

        #[test]
        fn parse_then_encode_is_identity(s in "[a-z]{1,4}(:[a-z0-9-]{1,12}){0,3}") {
            if let Some(a) = Action::parse(&s) {
                prop_assert_eq!(a.encode(), s);
            }
        }
    }
}
