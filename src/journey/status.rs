//! `/status`: where the learner is in each course and what comes next; `/help`.
use super::action::Action;
use super::browse::date_range;
use super::documents;
use super::reply::{Button, Reply};
use super::view::{EnrollmentView, Review};
use super::Ctx;
use crate::tr;

/// The stage of one enrollment, derived from its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    AwaitingPayment,
    ApplicationForm,
    Documents,
    DocumentReturned { note: String },
    UnderReview,
    Accepted,
}

pub fn stage(e: &EnrollmentView) -> Stage {
    if !e.paid() {
        return Stage::AwaitingPayment;
    }
    if !e.form_completed {
        return Stage::ApplicationForm;
    }
    match &e.review {
        None => Stage::Documents,
        Some(Review::Returned { note }) => Stage::DocumentReturned { note: note.clone() },
        Some(Review::Pending) => Stage::UnderReview,
        Some(Review::Accepted) => Stage::Accepted,
    }
}

fn enrollment_block(ctx: &Ctx, e: &EnrollmentView) -> (String, Option<Button>) {
    let t = ctx.texts;
    let Some((course, group)) = ctx.catalog.group(&e.group_id) else {
        return (tr!(t, "status-course-withdrawn"), None);
    };
    let dates = date_range(t, group.starts_on, group.ends_on);
    let (mut line, mut button) = match stage(e) {
        Stage::AwaitingPayment => (
            tr!(t, "stage-awaiting-payment"),
            Some(Button::action(tr!(t, "btn-pay-now"), Action::Pay(e.id))),
        ),
        Stage::ApplicationForm => (
            tr!(t, "stage-application"),
            Some(Button::action(tr!(t, "btn-fill-form"), Action::Form(e.id))),
        ),
        Stage::Documents => {
            let missing: Vec<String> = documents::required(e)
                .into_iter()
                .filter(|k| e.docs_of(*k).next().is_none())
                .map(|k| documents::kind_name(ctx, k))
                .collect();
            (
                tr!(
                    t,
                    "stage-documents",
                    missing = missing.join(", "),
                    count = missing.len()
                ),
                Some(Button::action(tr!(t, "btn-docs"), Action::Docs(e.id))),
            )
        }
        Stage::DocumentReturned { note } => (
            tr!(t, "stage-returned", note = note),
            Some(Button::action(tr!(t, "btn-docs"), Action::Docs(e.id))),
        ),
        Stage::UnderReview => (tr!(t, "stage-under-review"), None),
        Stage::Accepted => (tr!(t, "stage-accepted"), None),
    };
    if e.enrolled {
        if let Some((extra, extra_button)) = super::attestation::status_line(ctx, e) {
            line = format!("{line}\n{extra}");
            button = button.or(extra_button);
        }
    }
    (
        tr!(
            t,
            "status-course",
            title = &course.title,
            dates = dates,
            stage = crate::texts::Html(line)
        ),
        button,
    )
}

pub fn status(ctx: &Ctx) -> Reply {
    let t = ctx.texts;
    let learner = ctx.learner;
    if !learner.consented(&ctx.school.consent_version) {
        return Reply::text(tr!(t, "status-no-consent"))
            .button(Button::action(
                tr!(t, "btn-give-consent"),
                Action::Consent(true),
            ))
            .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog));
    }
    if learner.email.is_none() {
        let code = learner
            .pending_code
            .as_ref()
            .filter(|p| p.expires_at > ctx.ts());
        return match code {
            Some(p) => Reply::text(tr!(t, "status-code-sent", email = &p.email)),
            None => Reply::text(tr!(t, "status-no-email")),
        };
    }
    if learner.enrollments.is_empty() {
        return Reply::text(tr!(t, "status-no-courses"))
            .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog));
    }
    let mut blocks = Vec::new();
    let mut buttons = Vec::new();
    for e in &learner.enrollments {
        let (block, button) = enrollment_block(ctx, e);
        blocks.push(block);
        buttons.extend(button);
    }
    let mut reply = Reply::text(tr!(
        t,
        "status",
        courses = crate::texts::Html(blocks.join("\n\n"))
    ));
    for b in buttons {
        reply = reply.button(b);
    }
    if learner.enrollments.iter().any(|e| e.enrolled) {
        reply = reply.row(super::schedule::studying_buttons(ctx));
    }
    reply
}

pub fn help(ctx: &Ctx) -> Reply {
    Reply::text(tr!(
        ctx.texts,
        "help",
        school_email = &ctx.school.email,
        school_phone = &ctx.school.phone
    ))
    .with_menu()
}

pub fn not_understood(ctx: &Ctx) -> Reply {
    Reply::text(tr!(ctx.texts, "not-understood")).with_menu()
}
