//! The qualification document's electronic sample (step 6 of the instruction): made when the
//! group has ended and the test is passed, sent as a PDF to Telegram and by email, checked by
//! the learner. «ФИО и адрес верны» (or the word «Подтверждаю», typed here or sent as a reply
//! to the sample's letter — the email channel hands it in as text) locks the data; a
//! correction of the name (nominative, as on the document) or of the postal address makes a
//! new sample version and asks again. Buttons name the version they are for, so those under
//! an older sample are stale.
use super::action::Action;
use super::attestation::Test;
use super::browse::document_name;
use super::reply::{letter_text, Button, Reply};
use super::view::{CertificateView, EnrollmentView};
use super::{explain, stale, Command, Ctx, Dialogue, Outcome, StaffAlert};
use crate::domain::personal::{FullName, PostalAddress};
use crate::texts::Html;
use crate::tr;

/// Which part of the sample's data the learner corrects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Name,
    Address,
}

/// True for the words that confirm a sample: «Подтверждаю», «всё верно».
pub fn is_confirmation(text: &str) -> bool {
    let words: String = text
        .to_lowercase()
        .replace('ё', "е")
        .chars()
        .filter(|c| c.is_alphabetic() || c.is_whitespace())
        .collect();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    matches!(
        words.as_str(),
        "подтверждаю" | "все верно" | "да все верно" | "фио и адрес верны" | "верно"
    )
}

fn contacts(ctx: &Ctx) -> String {
    tr!(
        ctx.texts,
        "test-contacts",
        school_email = &ctx.school.email,
        school_phone = &ctx.school.phone
    )
}

/// The sample's data as the learner checks them, with the three buttons.
fn check_request(ctx: &Ctx, test: &Test, version: i64, name: &str, address: &str) -> Reply {
    let t = ctx.texts;
    let e = test.e.id;
    Reply::text(tr!(
        t,
        "sample-check",
        document = document_name(t, test.course.document),
        course = &test.course.title,
        request = tr!(t, "doc-sample-check-request"),
        name = name,
        address = address
    ))
    .button(Button::action(
        tr!(t, "btn-sample-confirm"),
        Action::SampleConfirm(e, version),
    ))
    .row(vec![
        Button::action(tr!(t, "btn-sample-name"), Action::SampleName(e, version)),
        Button::action(
            tr!(t, "btn-sample-address"),
            Action::SampleAddress(e, version),
        ),
    ])
}

fn letter(ctx: &Ctx, test: &Test, name: &str, address: &str) -> String {
    let t = ctx.texts;
    letter_text(&Reply::text(tr!(
        t,
        "sample-letter",
        document = document_name(t, test.course.document),
        course = &test.course.title,
        request = tr!(t, "doc-sample-check-request"),
        name = name,
        address = address,
        school = &ctx.school.name
    )))
}

fn issue(ctx: &Ctx, test: &Test, version: i64, name: &str, address: &str) -> Command {
    Command::IssueSample {
        enrollment: test.e.id,
        version,
        full_name: name.to_owned(),
        postal_address: address.to_owned(),
        notice: check_request(ctx, test, version, name, address),
        letter: letter(ctx, test, name, address),
    }
}

/// What the application form lacks for the document: the full name, the postal address.
pub fn missing_data(e: &EnrollmentView) -> (bool, bool) {
    let name = super::application::full_name(&e.form);
    let address = e.form.get("address").map_or("", |a| a.trim());
    (name.trim().is_empty(), address.is_empty())
}

/// The first sample, from the application form's name and address. When the form lacks
/// them, the learner is asked (in Telegram, or by letter without a chat: the answer comes
/// back through the same dialogue) and the sample follows the answer.
pub fn first(ctx: &Ctx, test: &Test) -> Outcome {
    match missing_data(test.e) {
        (false, false) => {
            let name = super::application::full_name(&test.e.form);
            let address = test.e.form.get("address").cloned().unwrap_or_default();
            Outcome::stay(Dialogue::Idle).run(issue(ctx, test, 1, &name, &address))
        }
        (name, _) => {
            let intro = tr!(ctx.texts, "sample-need-intro", course = &test.course.title);
            ask_missing(test, ctx, name, intro)
        }
    }
}

/// Asks for the part of the document's data the form lacks: the name first, then the
/// address, after `intro` (congratulations, thanks for the part just given, a reminder).
fn ask_missing(test: &Test, ctx: &Ctx, name_missing: bool, intro: String) -> Outcome {
    let t = ctx.texts;
    let e = test.e.id;
    let (dialogue, ask) = if name_missing {
        (
            Dialogue::SampleName { enrollment: e },
            tr!(t, "sample-need-name"),
        )
    } else {
        (
            Dialogue::SampleAddress { enrollment: e },
            tr!(t, "sample-need-address"),
        )
    };
    Outcome::stay(dialogue).say(Reply::text(format!("{intro}\n\n{ask}")))
}

/// The learner gave the name or address the form lacked: kept in the application, then
/// the other part asked for, or the first sample made.
fn missing_given(ctx: &Ctx, test: &Test, part: Part, text: &str) -> Outcome {
    let t = ctx.texts;
    let e = test.e;
    let waiting = match part {
        Part::Name => Dialogue::SampleName { enrollment: e.id },
        Part::Address => Dialogue::SampleAddress { enrollment: e.id },
    };
    let mut form = e.form.clone();
    let (value, field) = match part {
        Part::Name => match FullName::parse_line(text) {
            Ok(n) => {
                form.insert("surname".into(), n.surname.to_string());
                form.insert("name".into(), n.name.to_string());
                form.insert(
                    "patronymic".into(),
                    n.patronymic
                        .as_ref()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                );
                (n.display(), tr!(t, "sample-field-name"))
            }
            Err(err) => return Outcome::stay(waiting).say(Reply::text(explain(t, &err))),
        },
        Part::Address => match PostalAddress::parse(text) {
            Ok(a) => {
                let a = a.to_string();
                form.insert("address".into(), a.clone());
                (a, tr!(t, "sample-field-address"))
            }
            Err(err) => return Outcome::stay(waiting).say(Reply::text(explain(t, &err))),
        },
    };
    let save = Command::SaveForm {
        enrollment: e.id,
        fields: form.clone(),
        completed: e.form_completed,
    };
    let thanks = tr!(t, "sample-data-recorded", field = field, value = &value);
    let updated = EnrollmentView { form, ..e.clone() };
    match missing_data(&updated) {
        (false, false) => {
            let name = super::application::full_name(&updated.form);
            let address = updated.form.get("address").cloned().unwrap_or_default();
            Outcome::stay(Dialogue::Idle)
                .run(save)
                .run(issue(ctx, test, 1, &name, &address))
                .say(Reply::text(format!(
                    "{thanks}\n\n{}",
                    tr!(t, "sample-data-complete")
                )))
        }
        (name, _) => {
            let next = Test {
                e: &updated,
                ..*test
            };
            Outcome::stay(Dialogue::Idle)
                .run(save)
                .then(ask_missing(&next, ctx, name, thanks))
        }
    }
}

/// The scheduler, some days after the group's end: the sample still waits for data the
/// learner has not given. Staff are told (they can call or write), the learner asked again.
pub fn data_still_missing(ctx: &Ctx, test: &Test) -> Option<Outcome> {
    let (name, address) = missing_data(test.e);
    if test.e.certificate.is_some() || !(name || address) {
        return None;
    }
    let intro = tr!(
        ctx.texts,
        "sample-need-reminder",
        course = &test.course.title
    );
    Some(ask_missing(test, ctx, name, intro).run(Command::AlertStaff(
        StaffAlert::SampleDataMissing {
            enrollment: test.e.id,
            name,
            address,
        },
    )))
}

fn certificate(e: &EnrollmentView) -> Option<&CertificateView> {
    e.certificate.as_ref()
}

fn locked(ctx: &Ctx) -> Reply {
    Reply::text(tr!(
        ctx.texts,
        "sample-locked",
        contacts = Html(contacts(ctx))
    ))
}

/// «ФИО и адрес верны» under the sample of `version`.
pub fn confirm(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, version: i64) -> Outcome {
    let t = ctx.texts;
    let Some((e, c)) = ctx
        .learner
        .enrollment(enrollment)
        .and_then(|e| certificate(e).map(|c| (e, c)))
    else {
        return stale(ctx, dialogue);
    };
    if c.confirmed {
        return Outcome::stay(dialogue).toast(tr!(t, "sample-already-confirmed"));
    }
    if c.version != version {
        return Outcome::stay(dialogue).toast(tr!(t, "sample-outdated"));
    }
    confirmed(dialogue, e, c).edit(confirmed_reply(ctx, c))
}

fn confirmed(dialogue: Dialogue, e: &EnrollmentView, c: &CertificateView) -> Outcome {
    let next = match dialogue {
        Dialogue::SampleName { .. } | Dialogue::SampleAddress { .. } => Dialogue::Idle,
        other => other,
    };
    Outcome::stay(next)
        .run(Command::ConfirmSample {
            enrollment: e.id,
            version: c.version,
        })
        .run(Command::AlertStaff(StaffAlert::CertificateConfirmed {
            enrollment: e.id,
        }))
}

fn confirmed_reply(ctx: &Ctx, c: &CertificateView) -> Reply {
    Reply::text(tr!(
        ctx.texts,
        "sample-confirmed",
        name = &c.full_name,
        address = &c.postal_address,
        contacts = Html(contacts(ctx))
    ))
    .with_menu()
}

/// «Подтверждаю» typed (or sent as a reply to the sample's letter): confirms the newest
/// sample waiting for it. `None` when no sample waits (the text is then read as usual).
pub fn confirm_typed(ctx: &Ctx, dialogue: &Dialogue) -> Option<Outcome> {
    let (e, c) = ctx
        .learner
        .enrollments
        .iter()
        .rev()
        .find_map(|e| certificate(e).filter(|c| !c.confirmed).map(|c| (e, c)))?;
    Some(confirmed(dialogue.clone(), e, c).say(confirmed_reply(ctx, c)))
}

/// «Исправить ФИО» / «Исправить адрес» under the sample of `version`.
pub fn ask(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, version: i64, part: Part) -> Outcome {
    let t = ctx.texts;
    let Some(c) = ctx.learner.enrollment(enrollment).and_then(certificate) else {
        return stale(ctx, dialogue);
    };
    if c.confirmed {
        return Outcome::stay(dialogue).say(locked(ctx));
    }
    if c.version != version {
        return Outcome::stay(dialogue).toast(tr!(t, "sample-outdated"));
    }
    match part {
        Part::Name => Outcome::stay(Dialogue::SampleName { enrollment }).say(Reply::text(tr!(
            t,
            "sample-ask-name",
            name = &c.full_name
        ))),
        Part::Address => Outcome::stay(Dialogue::SampleAddress { enrollment }).say(Reply::text(
            tr!(t, "sample-ask-address", address = &c.postal_address),
        )),
    }
}

/// The corrected name or address: validated, then a new sample is made and sent.
pub fn answer(ctx: &Ctx, enrollment: i64, part: Part, text: &str) -> Outcome {
    let t = ctx.texts;
    let waiting = match part {
        Part::Name => Dialogue::SampleName { enrollment },
        Part::Address => Dialogue::SampleAddress { enrollment },
    };
    let Some(e) = ctx.learner.enrollment(enrollment) else {
        return Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(t, "button-outdated")));
    };
    if e.certificate.is_none() && e.attempts.iter().any(super::attestation::passed) {
        if let Some(test) = super::attestation::test_of(ctx, e) {
            return missing_given(ctx, &test, part, text);
        }
    }
    let Some((test, c)) =
        certificate(e).and_then(|c| Some((super::attestation::test_of(ctx, e)?, c)))
    else {
        return Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(t, "button-outdated")));
    };
    if c.confirmed {
        return Outcome::stay(Dialogue::Idle).say(locked(ctx));
    }
    let parsed = match part {
        Part::Name => FullName::parse_line(text).map(|n| n.display()),
        Part::Address => PostalAddress::parse(text).map(|a| a.to_string()),
    };
    let value = match parsed {
        Ok(v) => v,
        Err(e) => return Outcome::stay(waiting).say(Reply::text(explain(t, &e))),
    };
    let (old, name, address, field) = match part {
        Part::Name => (
            &c.full_name,
            value.as_str(),
            c.postal_address.as_str(),
            tr!(t, "sample-field-name"),
        ),
        Part::Address => (
            &c.postal_address,
            c.full_name.as_str(),
            value.as_str(),
            tr!(t, "sample-field-address"),
        ),
    };
    if *old == value {
        return Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(t, "sample-unchanged")));
    }
    let note = tr!(
        t,
        "sample-correction-note",
        field = &field,
        old = old,
        new = &value
    );
    Outcome::stay(Dialogue::Idle)
        .run(issue(ctx, &test, c.version + 1, name, address))
        .run(Command::AlertStaff(StaffAlert::CertificateCorrected {
            enrollment,
            note: crate::journey::reply::plain_text(&note),
        }))
        .say(Reply::text(tr!(
            t,
            "sample-corrected",
            field = field,
            value = &value
        )))
}

/// A line for `/status` once the document has a sample.
pub fn status_line(ctx: &Ctx, e: &EnrollmentView) -> Option<(String, Option<Button>)> {
    let t = ctx.texts;
    let c = certificate(e)?;
    let line = if let Some(number) = &c.tracking_number {
        tr!(t, "stage-document-posted", tracking = number)
    } else if c.printed {
        tr!(t, "stage-document-printed")
    } else if c.confirmed {
        tr!(t, "stage-document-confirmed")
    } else {
        tr!(t, "stage-document-sample")
    };
    Some((line, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::testkit::*;
    use crate::journey::view::EnrollmentView;
    use crate::journey::Input;

    fn world(confirmed: bool) -> World {
        let mut learner = registered();
        learner.enrollments.push(EnrollmentView {
            enrolled: true,
            certificate: Some(CertificateView {
                registration_number: "ПК-2026-000005".into(),
                full_name: "Иванова Мария Сергеевна".into(),
                postal_address: "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12".into(),
                version: 2,
                confirmed,
                printed: false,
                tracking_number: None,
            }),
            ..paid_enrollment()
        });
        World::new(learner)
    }

    #[test]
    fn the_word_confirms_the_newest_sample_typed_or_from_a_letter() {
        for word in [
            "Подтверждаю",
            "подтверждаю.",
            " Всё верно! ",
            "ФИО и адрес верны",
        ] {
            assert!(is_confirmation(word), "{word}");
        }
        for other in ["не подтверждаю", "Иванова", "верно ли?"] {
            assert!(!is_confirmation(other), "{other}");
        }
        let w = world(false);
        let o = w.step(Dialogue::Idle, Input::Text("Подтверждаю".into()));
        let commands: Vec<_> = o.commands().collect();
        assert_eq!(
            commands,
            vec![
                &Command::ConfirmSample {
                    enrollment: 5,
                    version: 2
                },
                &Command::AlertStaff(StaffAlert::CertificateConfirmed { enrollment: 5 }),
            ]
        );
        assert!(texts_of(&o).contains("Данные документа подтверждены"));
        // Nothing waits: the word is just a word.
        let w = world(true);
        let o = w.step(Dialogue::Idle, Input::Text("Подтверждаю".into()));
        assert!(o.commands().next().is_none());
    }

    #[test]
    fn corrections_are_validated_and_make_the_next_version() {
        let w = world(false);
        let asking = Dialogue::SampleName { enrollment: 5 };
        let o = w.step(Dialogue::Idle, Input::Button(Action::SampleName(5, 2)));
        assert_eq!(o.dialogue, asking);
        let o = w.step(asking.clone(), Input::Text("Иванова".into()));
        assert_eq!(o.dialogue, asking, "asked again");
        assert!(o.commands().next().is_none());
        let o = w.step(
            asking.clone(),
            Input::Text("Иванова Мария Сергеевна".into()),
        );
        assert!(texts_of(&o).contains("Так уже написано"));
        assert!(o.commands().next().is_none());
        let o = w.step(asking, Input::Text("Иванова Марья Сергеевна".into()));
        assert_eq!(o.dialogue, Dialogue::Idle);
        assert!(o.commands().any(|c| matches!(
            c,
            Command::IssueSample { version: 3, full_name, postal_address, .. }
                if full_name == "Иванова Марья Сергеевна" && postal_address.starts_with("620014")
        )));
        assert!(o.commands().any(|c| matches!(
            c,
            Command::AlertStaff(StaffAlert::CertificateCorrected { note, .. })
                if note.contains("Мария") && note.contains("Марья")
        )));
        let address = Dialogue::SampleAddress { enrollment: 5 };
        let o = w.step(address.clone(), Input::Text("г. Москва, ул. Ленина".into()));
        assert_eq!(o.dialogue, address);
        assert!(texts_of(&o).contains("индекс"), "{}", texts_of(&o));
        // An older sample's buttons are stale; after confirmation everything is locked.
        let o = w.step(Dialogue::Idle, Input::Button(Action::SampleConfirm(5, 1)));
        assert!(o.commands().next().is_none());
        let w = world(true);
        let o = w.step(Dialogue::Idle, Input::Button(Action::SampleAddress(5, 2)));
        assert!(texts_of(&o).contains("уже подтверждены"));
        let o = w.step(
            Dialogue::SampleName { enrollment: 5 },
            Input::Text("Иванова Марья Сергеевна".into()),
        );
        assert!(o.commands().next().is_none());
    }
}
