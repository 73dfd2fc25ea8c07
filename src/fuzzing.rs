//! Entry points over raw bytes for every parser of outside input: form fields, callback
//! data, deep-link payloads and free text through the journey, catalog files, incoming
//! letters, and the HTML splitter of long messages. The fuzz targets in `fuzz/` call these
//! (cargo-fuzz, nightly), and `tests/fuzz_corpus.rs` runs them over the seed corpus on
//! stable, so CI exercises them too. Each one panics only when an invariant breaks.
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};

use crate::domain::catalog::Catalog;
use crate::domain::personal::{
    BirthDate, EducationLevel, Email, FullName, NamePart, Phone, PostalAddress, PostalIndex, Snils,
};
use crate::domain::tracking::TrackingNumber;
use crate::journey::action::Action;
use crate::journey::reply::Button;
use crate::journey::view::{Consent, LearnerView};
use crate::journey::{self, Ctx, Dialogue, Input, PaymentMode, School};
use crate::texts::Texts;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Parses `input`; an accepted value must parse again to itself from its own display.
macro_rules! stable {
    ($parse:expr, $input:expr) => {
        if let Ok(value) = $parse($input) {
            let shown = value.to_string();
            assert_eq!(
                $parse(&shown).as_ref(),
                Ok(&value),
                "{shown:?} from {:?}",
                $input
            );
        }
    };
}

/// Every validator of the enrollment application: no panic, and accepted values are
/// normalized for good (their display parses back to the same value).
pub fn form_fields(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date");
    let input = &journey::bad_input::clean(input);
    stable!(Email::parse, input);
    stable!(NamePart::parse, input);
    let _ = NamePart::parse_patronymic(input);
    let _ = FullName::parse_line(input);
    stable!(Snils::parse, input);
    stable!(Phone::parse, input);
    stable!(|s| BirthDate::parse(s, today), input);
    stable!(PostalIndex::parse, input);
    stable!(PostalAddress::parse, input);
    let _ = EducationLevel::parse(input);
    stable!(TrackingNumber::parse, input);
}

/// Callback data of an inline button, as any client may send it: whatever parses encodes
/// back to the same action, within Telegram's 64 bytes.
pub fn callback_data(data: &[u8]) {
    let Some(input) = text(data) else { return };
    if let Some(action) = Action::parse(input) {
        let encoded = action.encode();
        assert!(encoded.len() <= 64, "{encoded:?}");
        assert_eq!(Action::parse(&encoded), Some(action), "{input:?}");
    }
}

thread_local! {
    static TEXTS: Texts = Texts::russian();
    static CATALOG: Catalog = crate::catalog::example_catalog().expect("example catalog");
}

fn school() -> School {
    School {
        name: "Учебный центр".into(),
        email: "teach@example.org".into(),
        phone: "+7 343 000-00-00".into(),
        privacy_policy_url: "https://example.org/privacy".into(),
        consent_version: "1".into(),
        tz: chrono_tz::Europe::Moscow,
        max_document_bytes: 20 << 20,
        payment_mode: PaymentMode::Demo,
        bank_details: String::new(),
        bot_username: "uchbot_test_bot".into(),
    }
}

fn learner(registered: bool) -> LearnerView {
    LearnerView {
        id: 1,
        tg_user_id: Some(1001),
        display_name: "Мария".into(),
        consent: if registered {
            Consent::Given {
                version: "1".into(),
            }
        } else {
            Consent::NotAsked
        },
        email: registered.then(|| "masha@example.org".into()),
        pending_code: None,
        previous_form: Default::default(),
        enrollments: Vec::new(),
        timezone: None,
        mail_token: Some("a1b2c3d4e5f60718".into()),
        unsorted: Vec::new(),
    }
}

/// A deep-link payload (`/start PAYLOAD`) and the same bytes as free text, through the
/// journey in each waiting state: always an effect, and only buttons Telegram accepts.
pub fn journey_text(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let school = school();
    let dialogues = [
        Dialogue::Idle,
        Dialogue::AwaitingConsent { then: None },
        Dialogue::AwaitingEmail { then: None },
        Dialogue::AwaitingCode {
            email: "masha@example.org".into(),
            then: None,
        },
    ];
    TEXTS.with(|texts| {
        CATALOG.with(|catalog| {
            for registered in [false, true] {
                let learner = learner(registered);
                let ctx = Ctx {
                    texts,
                    catalog,
                    school: &school,
                    now: Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
                    learner: &learner,
                    message_id: None,
                    // Fixed, so that a crash found by the fuzzer replays.
                    entropy: data.len() as u64,
                };
                for dialogue in &dialogues {
                    for input in [
                        Input::Start {
                            payload: Some(input.to_owned()),
                        },
                        Input::Text(input.to_owned()),
                    ] {
                        let outcome = journey::step(&ctx, dialogue.clone(), input.clone());
                        // An answer now, or work whose result brings one (a code sent).
                        assert!(!outcome.effects.is_empty(), "no answer to {input:?}");
                        for reply in outcome.replies() {
                            for button in reply.buttons.iter().flatten() {
                                if let Button::Action { action, .. } = button {
                                    assert!(action.encode().len() <= 64, "{action:?}");
                                }
                            }
                        }
                    }
                }
            }
        })
    });
}

/// A catalog file as an operator may write it: an error or a catalog, never a panic.
pub fn catalog_file(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("dialogues");
    let _ = crate::catalog::parse_catalog(input, "fuzz.toml", &base);
}

/// A raw incoming letter, as the IMAP poller hands it over.
pub fn email(data: &[u8]) {
    let limits = crate::email::MailLimits::for_document_scans();
    if let Ok(examined) = crate::email::examine(data, &limits, "teach", "mx.school.test") {
        // The parts the intake reads next must hold together.
        for attachment in &examined.mail.attachments {
            assert!(attachment.bytes.len() <= limits.max_attachment_bytes);
            assert!(!attachment.file_name.is_empty());
        }
        assert!(examined.mail.attachments.len() <= limits.max_attachments);
    }
}

/// Any text through the splitter of long messages: every part fits when the text has no
/// markup of its own.
pub fn telegram_html(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let limit = 64 + data.len() % 512;
    for part in crate::telegram::split::split_html(input, limit) {
        if !input.contains('<') {
            assert!(part.encode_utf16().count() <= limit);
        }
    }
}

/// A fuzz entry point over raw bytes.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: [(&str, Target); 6] = [
    ("form_fields", form_fields),
    ("callback_data", callback_data),
    ("journey_text", journey_text),
    ("catalog_file", catalog_file),
    ("email", email),
    ("telegram_html", telegram_html),
];
