//! Pure tests of the journey: a small catalog, a learner snapshot, and the transition
//! function, with no database or network.
use chrono::{NaiveDate, TimeZone, Utc};

use super::action::Action;
use super::application::Field;
use super::documents::{DocKind, IncomingFile};
use super::view::*;
use super::*;
use crate::domain::catalog::*;
use crate::texts::Texts;

pub fn catalog() -> Catalog {
    let offer = Offer {
        title: "Договор-оферта".into(),
        version: "2026-09".into(),
        url: "https://example.org/offer".into(),
        sha256: "ab".repeat(32),
    };
    let question = |id: &str| Question {
        id: id.into(),
        text: "Вопрос?".into(),
        kind: QuestionKind::Single,
        options: vec!["Да".into(), "Нет".into()],
        correct: vec![0],
    };
    let course = |id: &str, program, hours, groups: Vec<Group>| Course {
        id: id.into(),
        program,
        title: format!("Курс {id}"),
        description: "Описание".into(),
        hours,
        price: Money(1_250_000),
        format: "Онлайн, вебинары".into(),
        document: DocumentKind::for_program(program),
        offer: None,
        attestation: Attestation {
            pass_percent: 70,
            max_attempts: 3,
            pause_minutes: 60,
            time_limit_minutes: None,
            questions_per_attempt: None,
            questions: vec![question(&format!("{id}-q1"))],
        },
        groups,
    };
    let group = |id: &str, course: &str, from: (i32, u32, u32), to: (i32, u32, u32)| Group {
        id: id.into(),
        course_id: course.into(),
        title: format!("Группа {id}"),
        starts_on: NaiveDate::from_ymd_opt(from.0, from.1, from.2).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(to.0, to.1, to.2).unwrap(),
        test_opens_on: None,
        webinar_url: "https://events.example.org/room".into(),
        lessons: Vec::new(),
    };
    Catalog {
        school_offer: Some(offer),
        courses: vec![
            course(
                "fgos",
                ProgramKind::Qualification,
                72,
                vec![group("fgos-dec", "fgos", (2026, 12, 7), (2026, 12, 25))],
            ),
            course(
                "old",
                ProgramKind::Qualification,
                16,
                vec![group("old-oct", "old", (2026, 10, 1), (2026, 10, 20))],
            ),
            course(
                "pdo",
                ProgramKind::Retraining,
                252,
                vec![group("pdo-jan", "pdo", (2027, 1, 11), (2027, 4, 30))],
            ),
        ],
    }
}

pub fn school() -> School {
    School {
        name: "Учебный центр".into(),
        email: "teach@example.org".into(),
        phone: "+7 800 000-00-00".into(),
        privacy_policy_url: "https://example.org/privacy".into(),
        consent_version: "v1".into(),
        tz: chrono_tz::Europe::Moscow,
        max_document_bytes: 20 * 1024 * 1024,
        payment_mode: PaymentMode::Online,
        bank_details: "р/с 40702810000000000000".into(),
        bot_username: "uchbot_test_bot".into(),
    }
}

pub fn newcomer() -> LearnerView {
    LearnerView {
        id: 7,
        tg_user_id: Some(1001),
        display_name: "Мария".into(),
        consent: Consent::NotAsked,
        email: None,
        pending_code: None,
        previous_form: Default::default(),
        enrollments: Vec::new(),
        timezone: None,
        unsorted: Vec::new(),
        mail_token: Some("a1b2c3d4e5f60718".into()),
    }
}

pub fn registered() -> LearnerView {
    LearnerView {
        consent: Consent::Given {
            version: "v1".into(),
        },
        email: Some("masha@example.org".into()),
        ..newcomer()
    }
}

pub fn paid_enrollment() -> EnrollmentView {
    EnrollmentView {
        id: 5,
        course_id: "fgos".into(),
        group_id: "fgos-dec".into(),
        order_id: 3,
        order_status: OrderStatus::Paid,
        amount_kopecks: 1_250_000,
        payment: None,
        form: Default::default(),
        form_completed: false,
        documents: Vec::new(),
        enrolled: false,
        review: None,
        attempts: Vec::new(),
        certificate: None,
    }
}

pub struct World {
    pub texts: Texts,
    pub catalog: Catalog,
    pub school: School,
    pub learner: LearnerView,
    pub now: chrono::DateTime<Utc>,
    pub entropy: u64,
}

impl World {
    pub fn new(learner: LearnerView) -> Self {
        Self {
            texts: Texts::russian(),
            catalog: catalog(),
            school: school(),
            learner,
            now: Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap(),
            entropy: 42,
        }
    }

    pub fn step(&self, dialogue: Dialogue, input: Input) -> Outcome {
        let ctx = Ctx {
            texts: &self.texts,
            catalog: &self.catalog,
            school: &self.school,
            now: self.now,
            learner: &self.learner,
            message_id: Some(99),
            entropy: self.entropy,
        };
        step(&ctx, dialogue, input)
    }
}

pub fn texts_of(o: &Outcome) -> String {
    o.replies()
        .map(|r| reply::plain_text(&r.text))
        .chain(o.effects.iter().filter_map(|e| match e {
            Effect::Toast(t) => Some(t.clone()),
            _ => None,
        }))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

pub fn buttons_of(o: &Outcome) -> Vec<String> {
    o.replies()
        .flat_map(|r| r.all_buttons().map(|b| b.label().to_owned()))
        .collect()
}

#[test]
fn a_newcomer_is_greeted_and_asked_for_consent_before_anything_personal() {
    let w = World::new(newcomer());
    let o = w.step(Dialogue::Idle, Input::Start { payload: None });
    assert_eq!(o.dialogue, Dialogue::AwaitingConsent { then: None });
    let text = texts_of(&o);
    assert!(text.contains("Здравствуйте"), "{text}");
    assert!(text.contains("152-ФЗ"), "{text}");
    assert!(buttons_of(&o).contains(&"✅ Согласен".to_owned()));
    assert!(
        o.commands().next().is_none(),
        "nothing is recorded before an answer"
    );
}

#[test]
fn refusing_consent_is_recorded_and_the_catalog_stays_open() {
    let w = World::new(newcomer());
    let o = w.step(
        Dialogue::AwaitingConsent { then: None },
        Input::Button(Action::Consent(false)),
    );
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::RecordConsent { granted: false }]
    );
    assert!(buttons_of(&o).iter().any(|b| b.contains("Каталог")));
    // Browsing works without consent.
    let o = w.step(Dialogue::Idle, Input::Button(Action::Course("fgos".into())));
    assert!(texts_of(&o).contains("Курс fgos"));
    // Enrolling asks for consent again and remembers the group.
    let o = w.step(
        Dialogue::Idle,
        Input::Button(Action::Enroll("fgos-dec".into())),
    );
    assert_eq!(
        o.dialogue,
        Dialogue::AwaitingConsent {
            then: Some(Intent::Enroll {
                group_id: "fgos-dec".into()
            })
        }
    );
}

#[test]
fn an_email_is_validated_then_a_code_is_sent() {
    let w = World::new(LearnerView {
        consent: Consent::Given {
            version: "v1".into(),
        },
        ..newcomer()
    });
    let o = w.step(
        Dialogue::AwaitingEmail { then: None },
        Input::Text("masha@".into()),
    );
    assert_eq!(o.dialogue, Dialogue::AwaitingEmail { then: None });
    assert!(o.commands().next().is_none());
    assert!(!texts_of(&o).is_empty());
    let o = w.step(
        Dialogue::AwaitingEmail { then: None },
        Input::Text(" Masha@Example.ORG ".into()),
    );
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::SendEmailCode {
            email: "masha@example.org".into()
        }]
    );
}

#[test]
fn a_wrong_code_spends_an_attempt_and_a_right_one_confirms() {
    let email = "masha@example.org".to_owned();
    let mut learner = LearnerView {
        consent: Consent::Given {
            version: "v1".into(),
        },
        ..newcomer()
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .unwrap()
        .timestamp();
    learner.pending_code = Some(PendingCode {
        email: email.clone(),
        code_hash: registration::code_hash(7, &email, "123456"),
        attempts_left: 2,
        sends: 1,
        sent_at: now - 30,
        expires_at: now + 600,
    });
    let w = World::new(learner);
    let waiting = Dialogue::AwaitingCode {
        email: email.clone(),
        then: None,
    };
    let o = w.step(waiting.clone(), Input::Text("654321".into()));
    assert!(o.commands().any(|c| *c == Command::SpendCodeAttempt));
    assert!(
        texts_of(&o).contains("Осталась 1 попытка"),
        "{}",
        texts_of(&o)
    );
    let o = w.step(waiting.clone(), Input::Text("12 34 56".into()));
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::ConfirmEmail {
            email: email.clone()
        }]
    );
    let o = w.step(waiting.clone(), Input::Text("12345".into()));
    assert!(texts_of(&o).contains("6 цифр"));
    // Asking for a new code within a minute is refused politely.
    let o = w.step(waiting, Input::Button(Action::ResendCode));
    assert!(o.commands().next().is_none());
    assert!(texts_of(&o).contains("сек"), "{}", texts_of(&o));
}

/// `/status` asks a consented learner for their address, or for the code sent to it;
/// what they type next is taken as asked even when the dialogue was left (/cancel, a
/// restart): «напишите его сюда» must not be answered «не понял».
#[test]
fn status_asks_for_the_address_or_the_code_and_the_next_text_is_taken_as_asked() {
    let consented = LearnerView {
        consent: Consent::Given {
            version: "v1".into(),
        },
        ..newcomer()
    };
    let w = World::new(consented.clone());
    let o = w.step(Dialogue::Idle, Input::Command(Cmd::Status));
    assert!(
        texts_of(&o).contains("напишите его сюда"),
        "{}",
        texts_of(&o)
    );
    let o = w.step(Dialogue::Idle, Input::Text("Masha@example.org".into()));
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::SendEmailCode {
            email: "masha@example.org".into()
        }]
    );

    let email = "masha@example.org".to_owned();
    let now = Utc
        .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .unwrap()
        .timestamp();
    let mut waiting = consented.clone();
    waiting.pending_code = Some(PendingCode {
        email: email.clone(),
        code_hash: registration::code_hash(7, &email, "123456"),
        attempts_left: 3,
        sends: 1,
        sent_at: now - 30,
        expires_at: now + 600,
    });
    let w = World::new(waiting);
    let o = w.step(Dialogue::Idle, Input::Command(Cmd::Status));
    let text = texts_of(&o);
    assert!(
        text.contains("код отправлен на masha@example.org"),
        "{text}"
    );
    let o = w.step(Dialogue::Idle, Input::Text("123456".into()));
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::ConfirmEmail { email }]
    );
    // Other text of someone with nothing pending is still not understood.
    let w = World::new(registered());
    let o = w.step(Dialogue::Idle, Input::Text("masha@example.org".into()));
    assert!(texts_of(&o).contains("не совсем понял"), "{}", texts_of(&o));
}

#[test]
fn an_unknown_deep_link_gets_a_polite_message_and_the_catalog() {
    let w = World::new(registered());
    let o = w.step(
        Dialogue::Idle,
        Input::Start {
            payload: Some("course_nope".into()),
        },
    );
    let text = texts_of(&o);
    assert!(text.contains("Не нашёл курс"), "{text}");
    assert!(buttons_of(&o)
        .iter()
        .any(|b| b.starts_with("Повышение квалификации")));
    let o = w.step(
        Dialogue::Idle,
        Input::Start {
            payload: Some("course_pdo".into()),
        },
    );
    assert!(texts_of(&o).contains("252 часа"), "{}", texts_of(&o));
}

#[test]
fn the_offer_is_shown_and_its_acceptance_creates_the_order() {
    let w = World::new(registered());
    let o = w.step(
        Dialogue::Idle,
        Input::Button(Action::Enroll("fgos-dec".into())),
    );
    assert!(texts_of(&o).contains("Договор-оферта"));
    assert!(buttons_of(&o).contains(&"✅ Принимаю условия оферты".to_owned()));
    let o = w.step(
        Dialogue::Idle,
        Input::Button(Action::AcceptOffer("fgos-dec".into())),
    );
    assert_eq!(
        o.commands().collect::<Vec<_>>(),
        vec![&Command::AcceptOffer {
            group_id: "fgos-dec".into()
        }]
    );
    // A group that has ended cannot be joined.
    let o = w.step(
        Dialogue::Idle,
        Input::Button(Action::AcceptOffer("old-oct".into())),
    );
    assert!(o.commands().next().is_none());
}

#[test]
fn payment_confirmation_is_acted_on_once() {
    let mut learner = registered();
    learner.enrollments.push(EnrollmentView {
        order_status: OrderStatus::Pending,
        ..paid_enrollment()
    });
    let w = World::new(learner.clone());
    let o = w.step(
        Dialogue::Idle,
        Input::Event(Event::PaymentConfirmed {
            enrollment: 5,
            via: "yookassa",
        }),
    );
    assert!(o
        .commands()
        .any(|c| matches!(c, Command::MarkPaid { enrollment: 5, .. })));
    assert!(texts_of(&o).contains("получена"));
    learner.enrollments[0].order_status = OrderStatus::Paid;
    let w = World::new(learner);
    let o = w.step(
        Dialogue::Idle,
        Input::Event(Event::PaymentConfirmed {
            enrollment: 5,
            via: "yookassa",
        }),
    );
    assert!(
        o.effects.is_empty(),
        "a repeated notification changes nothing"
    );
}

#[test]
fn a_button_for_someone_elses_enrollment_changes_nothing() {
    let mut learner = registered();
    learner.enrollments.push(paid_enrollment());
    let w = World::new(learner);
    for action in [
        Action::Form(999),
        Action::Pay(999),
        Action::Submit(999),
        Action::Docs(999),
    ] {
        let o = w.step(Dialogue::Idle, Input::Button(action.clone()));
        assert!(o.commands().next().is_none(), "{action:?}");
    }
}

#[test]
fn the_form_validates_each_answer_and_ends_with_a_summary() {
    let mut learner = registered();
    learner.enrollments.push(paid_enrollment());
    let w = World::new(learner.clone());
    let o = w.step(Dialogue::Idle, Input::Button(Action::Form(5)));
    assert_eq!(
        o.dialogue,
        Dialogue::Form {
            enrollment: 5,
            field: Field::Surname,
            review: false
        }
    );
    let at = |field| Dialogue::Form {
        enrollment: 5,
        field,
        review: false,
    };
    let o = w.step(at(Field::Snils), Input::Text("112-233-445 96".into()));
    assert_eq!(o.dialogue, at(Field::Snils), "a wrong SNILS is asked again");
    assert!(o.commands().next().is_none());
    let o = w.step(at(Field::Snils), Input::Text("112-233-445 95".into()));
    assert_eq!(o.dialogue, at(Field::Phone));
    assert!(o.commands().any(|c| matches!(c, Command::SaveForm { fields, .. } if fields.get("snils").map(String::as_str) == Some("112-233-445 95"))));

    let mut full = learner.clone();
    let form: std::collections::BTreeMap<String, String> = [
        ("surname", "Иванова"),
        ("name", "Мария"),
        ("patronymic", "Сергеевна"),
        ("birth_date", "07.03.1985"),
        ("snils", "112-233-445 95"),
        ("phone", "+79123456789"),
        ("email", "masha@example.org"),
        ("education", "higher"),
        ("diploma_name", "Петрова Мария Сергеевна"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    full.enrollments[0].form = form;
    let w = World::new(full);
    let o = w.step(
        at(Field::Address),
        Input::Text("620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12".into()),
    );
    assert_eq!(o.dialogue, Dialogue::Idle);
    let text = texts_of(&o);
    assert!(
        text.contains("Проверьте") && text.contains("Петрова Мария Сергеевна"),
        "{text}"
    );
    assert!(buttons_of(&o).contains(&"✅ Всё верно".to_owned()));
}

#[test]
fn documents_over_the_limit_are_refused_without_downloading() {
    let mut learner = registered();
    let mut e = paid_enrollment();
    e.form_completed = true;
    learner.enrollments.push(e);
    let w = World::new(learner);
    let dialogue = Dialogue::Documents {
        enrollment: 5,
        kind: DocKind::Passport,
        replace: false,
    };
    let big = IncomingFile {
        file_id: "f".into(),
        name: Some("скан.pdf".into()),
        mime: None,
        size: Some(30 * 1024 * 1024),
        photo: false,
    };
    let o = w.step(dialogue.clone(), Input::File(big));
    assert!(o.commands().next().is_none());
    assert!(texts_of(&o).contains("20 МБ"), "{}", texts_of(&o));
    let ok = IncomingFile {
        size: Some(1024),
        ..IncomingFile {
            file_id: "f".into(),
            name: None,
            mime: None,
            size: None,
            photo: true,
        }
    };
    let o = w.step(dialogue, Input::File(ok));
    assert!(o.commands().any(|c| matches!(
        c,
        Command::StoreDocument {
            kind: DocKind::Passport,
            ..
        }
    )));
}

#[test]
fn submitting_a_complete_file_enrolls_and_alerts_staff() {
    let mut learner = registered();
    let mut e = paid_enrollment();
    e.form_completed = true;
    e.documents = vec![
        DocView {
            id: 1,
            kind: DocKind::Passport,
            file_name: "паспорт.pdf".into(),
            status: DocStatus::Received,
            note: None,
        },
        DocView {
            id: 2,
            kind: DocKind::Education,
            file_name: "диплом.pdf".into(),
            status: DocStatus::Received,
            note: None,
        },
    ];
    learner.enrollments.push(e);
    let w = World::new(learner);
    let o = w.step(Dialogue::Idle, Input::Button(Action::Submit(5)));
    assert!(o
        .commands()
        .any(|c| *c == Command::Submit { enrollment: 5 }));
    assert!(o
        .commands()
        .any(|c| *c == Command::AlertStaff(StaffAlert::ApplicationReady { enrollment: 5 })));
    assert!(texts_of(&o).contains("Вы зачислены"), "{}", texts_of(&o));
}

#[test]
fn staff_buttons_pressed_by_a_learner_do_nothing() {
    let w = World::new(registered());
    let o = w.step(Dialogue::Idle, Input::Button(Action::StaffAccept(5)));
    assert!(o.commands().next().is_none());
    assert!(texts_of(&o).contains("сотрудников"));
}

#[test]
fn the_link_from_a_letter_tells_whether_telegram_is_now_linked() {
    let w = World::new(registered());
    let o = w.step(
        Dialogue::Idle,
        Input::Start {
            payload: Some("link_a1b2c3d4e5f60718".into()),
        },
    );
    let text = texts_of(&o);
    assert!(text.contains("связан с вашей записью"), "{text}");
    assert!(!text.contains("Не нашёл курс"), "{text}");
    let o = w.step(
        Dialogue::Idle,
        Input::Start {
            payload: Some("link_ffffffffffffffff".into()),
        },
    );
    let text = texts_of(&o);
    assert!(text.contains("Не получилось связать"), "{text}");
    assert!(text.contains("teach@example.org"), "{text}");
    // The unknown sender's link (`mail`) is a plain start, not an unknown course.
    let o = w.step(
        Dialogue::Idle,
        Input::Start {
            payload: Some("mail".into()),
        },
    );
    assert!(!texts_of(&o).contains("Не нашёл курс"));
}
