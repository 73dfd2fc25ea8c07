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

/// The first sample, from the application form's name and address. `None` when the form
/// lacks them (staff will see the learner in `/pending` through the roster).
pub fn first(ctx: &Ctx, test: &Test) -> Option<Outcome> {
    let name = super::application::full_name(&test.e.form);
    let address = test.e.form.get("address").cloned().unwrap_or_default();
    if name.is_empty() || address.is_empty() {
        return None;
    }
    Some(Outcome::stay(Dialogue::Idle).run(issue(ctx, test, 1, &name, &address)))
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
    confirmed(ctx, dialogue, e, c).edit(confirmed_reply(ctx, c))
}

fn confirmed(ctx: &Ctx, dialogue: Dialogue, e: &EnrollmentView, c: &CertificateView) -> Outcome {
    let next = match dialogue {
        Dialogue::SampleName { .. } | Dialogue::SampleAddress { .. } => Dialogue::Idle,
        other => other,
    };
    let _ = ctx;
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
    Some(confirmed(ctx, dialogue.clone(), e, c).say(confirmed_reply(ctx, c)))
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
    let Some((test, c)) = ctx.learner.enrollment(enrollment).and_then(|e| {
        let c = certificate(e)?;
        Some((super::attestation::test_of(ctx, e)?, c))
    }) else {
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
