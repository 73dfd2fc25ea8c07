//! Documents of the personal file: passport, education document and, when the names differ,
//! the name-change document; uploaded here or emailed to the school; then «Отправить на
//! проверку», which enrolls the learner, and the staff review.
use serde::{Deserialize, Serialize};

use super::action::Action;
use super::application::{self, name_changed};
use super::browse::date_range;
use super::reply::{Button, Reply};
use super::view::{DocStatus, EnrollmentView, Review};
use super::{stale, Command, Ctx, Dialogue, Event, Outcome, StaffAlert};
use crate::tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Passport,
    Education,
    NameChange,
}

impl DocKind {
    pub const ALL: [DocKind; 3] = [Self::Passport, Self::Education, Self::NameChange];

    pub fn key(self) -> &'static str {
        match self {
            Self::Passport => "passport",
            Self::Education => "education",
            Self::NameChange => "name_change",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// A file the learner sent, as the channel describes it (not yet downloaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingFile {
    pub file_id: String,
    pub name: Option<String>,
    pub mime: Option<String>,
    pub size: Option<u64>,
    pub photo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    TooLarge { limit_mb: u64 },
    UnsupportedType,
    Empty,
    DownloadFailed,
}

pub fn kind_name(ctx: &Ctx, kind: DocKind) -> String {
    let t = ctx.texts;
    match kind {
        DocKind::Passport => tr!(t, "doc-passport"),
        DocKind::Education => tr!(t, "doc-education"),
        DocKind::NameChange => tr!(t, "doc-name-change"),
    }
}

pub fn required(e: &EnrollmentView) -> Vec<DocKind> {
    let mut kinds = vec![DocKind::Passport, DocKind::Education];
    if name_changed(&e.form) {
        kinds.push(DocKind::NameChange);
    }
    kinds
}

/// The first required kind with no usable file (none sent, or returned by staff).
fn missing(e: &EnrollmentView) -> Option<DocKind> {
    required(e).into_iter().find(|k| {
        let mut docs = e.docs_of(*k).peekable();
        docs.peek().is_none() || e.docs_of(*k).any(|d| d.status == DocStatus::Returned)
    })
}

fn usable<'a>(ctx: &'a Ctx, enrollment: i64) -> Result<&'a EnrollmentView, Option<Reply>> {
    let t = ctx.texts;
    let e = ctx.learner.enrollment(enrollment).ok_or(None)?;
    if !e.paid() {
        return Err(Some(Reply::text(tr!(t, "form-not-paid")).button(
            Button::action(tr!(t, "btn-payment-new-link"), Action::Pay(e.id)),
        )));
    }
    if !e.form_completed {
        return Err(Some(Reply::text(tr!(t, "docs-form-first")).button(
            Button::action(tr!(t, "btn-fill-form"), Action::Form(e.id)),
        )));
    }
    if matches!(e.review, Some(Review::Pending | Review::Accepted)) {
        return Err(Some(Reply::text(tr!(t, "docs-under-review"))));
    }
    Ok(e)
}

fn refuse(ctx: &Ctx, dialogue: Dialogue, why: Option<Reply>) -> Outcome {
    match why {
        Some(reply) => Outcome::stay(dialogue).say(reply),
        None => stale(ctx, dialogue),
    }
}

pub fn open(ctx: &Ctx, dialogue: Dialogue, enrollment: i64) -> Outcome {
    if let Some(e) = ctx.learner.enrollment(enrollment) {
        if e.paid() && !e.form_completed {
            return application::open(ctx, dialogue, enrollment);
        }
    }
    match usable(ctx, enrollment) {
        Ok(e) => ask_next(ctx, e),
        Err(why) => refuse(ctx, dialogue, why),
    }
}

fn request(ctx: &Ctx, e: &EnrollmentView, kind: DocKind, replace: bool) -> Outcome {
    let t = ctx.texts;
    let returned = e
        .docs_of(kind)
        .find(|d| d.status == DocStatus::Returned)
        .and_then(|d| d.note.clone());
    let text = match (kind, returned) {
        (_, Some(reason)) => tr!(
            t,
            "docs-ask-again",
            kind = kind_name(ctx, kind),
            reason = reason
        ),
        (DocKind::Passport, None) => tr!(t, "docs-ask-passport"),
        (DocKind::Education, None) => tr!(t, "docs-ask-education"),
        (DocKind::NameChange, None) => tr!(t, "docs-ask-name-change"),
    };
    let hint = tr!(
        t,
        "docs-how",
        limit = ctx.school.max_document_bytes / (1024 * 1024),
        school_email = &ctx.school.email
    );
    Outcome::stay(Dialogue::Documents {
        enrollment: e.id,
        kind,
        replace,
    })
    .say(Reply::text(format!("{text}\n\n{hint}")))
}

/// Asks for the next missing document, or shows the complete set with «Отправить».
pub fn ask_next(ctx: &Ctx, e: &EnrollmentView) -> Outcome {
    match missing(e) {
        Some(kind) => {
            let replace = e.docs_of(kind).any(|d| d.status == DocStatus::Returned);
            request(ctx, e, kind, replace)
        }
        None => Outcome::stay(Dialogue::Idle).say(complete_set(ctx, e)),
    }
}

fn complete_set(ctx: &Ctx, e: &EnrollmentView) -> Reply {
    let t = ctx.texts;
    let lines: Vec<String> = required(e)
        .into_iter()
        .map(|k| {
            let files: Vec<&str> = e.docs_of(k).map(|d| d.file_name.as_str()).collect();
            tr!(
                t,
                "docs-line",
                kind = kind_name(ctx, k),
                files = files.join(", ")
            )
        })
        .collect();
    let mut reply = Reply::text(tr!(
        t,
        "docs-complete",
        lines = crate::texts::Html(lines.join("\n"))
    ))
    .button(Button::action(tr!(t, "btn-submit"), Action::Submit(e.id)));
    for k in required(e) {
        let name = kind_name(ctx, k);
        reply = reply.row(vec![
            Button::action(tr!(t, "btn-doc-add", kind = &name), Action::DocAdd(e.id, k)),
            Button::action(
                tr!(t, "btn-doc-replace", kind = &name),
                Action::DocReplace(e.id, k),
            ),
        ]);
    }
    reply
}

pub fn add(
    ctx: &Ctx,
    dialogue: Dialogue,
    enrollment: i64,
    kind: DocKind,
    replace: bool,
) -> Outcome {
    match usable(ctx, enrollment) {
        Ok(e) if required(e).contains(&kind) => request(ctx, e, kind, replace),
        Ok(_) => stale(ctx, dialogue),
        Err(why) => refuse(ctx, dialogue, why),
    }
}

pub fn waiting_for_file(ctx: &Ctx, dialogue: &Dialogue) -> Reply {
    let t = ctx.texts;
    match dialogue {
        Dialogue::Documents {
            enrollment, kind, ..
        } => Reply::text(tr!(t, "docs-waiting", kind = kind_name(ctx, *kind))).button(
            Button::action(tr!(t, "btn-docs-next"), Action::Docs(*enrollment)),
        ),
        _ => Reply::text(tr!(t, "unsupported-message")),
    }
}

pub fn file(ctx: &Ctx, dialogue: Dialogue, file: IncomingFile) -> Outcome {
    let t = ctx.texts;
    let Dialogue::Documents {
        enrollment,
        kind,
        replace,
    } = dialogue
    else {
        // A file out of the blue: offer the enrollments that are waiting for documents.
        let mut reply = Reply::text(tr!(t, "docs-unexpected"));
        for e in ctx
            .learner
            .enrollments
            .iter()
            .filter(|e| usable(ctx, e.id).is_ok())
        {
            let title = ctx
                .catalog
                .course(&e.course_id)
                .map(|c| c.title.clone())
                .unwrap_or_default();
            reply = reply.button(Button::action(
                tr!(t, "btn-docs-for", title = title),
                Action::Docs(e.id),
            ));
        }
        return Outcome::stay(dialogue).say(reply);
    };
    if let Err(why) = usable(ctx, enrollment) {
        return refuse(ctx, Dialogue::Idle, why);
    }
    if file.size.is_some_and(|s| s > ctx.school.max_document_bytes) {
        return refused(
            ctx,
            dialogue,
            &FileRefusal::TooLarge {
                limit_mb: ctx.school.max_document_bytes / (1024 * 1024),
            },
        );
    }
    Outcome::stay(Dialogue::Documents {
        enrollment,
        kind,
        // Later pages of the same replacement are added to it, not replacing it again.
        replace: false,
    })
    .run(Command::StoreDocument {
        enrollment,
        kind,
        file,
        replace,
    })
}

fn refused(ctx: &Ctx, dialogue: Dialogue, reason: &FileRefusal) -> Outcome {
    let t = ctx.texts;
    let text = match reason {
        FileRefusal::TooLarge { limit_mb } => tr!(t, "file-too-large", limit = *limit_mb),
        FileRefusal::UnsupportedType => tr!(t, "file-bad-type"),
        FileRefusal::Empty => tr!(t, "file-empty"),
        FileRefusal::DownloadFailed => tr!(t, "file-download-failed"),
    };
    Outcome::stay(dialogue).say(Reply::text(text))
}

pub fn submit(ctx: &Ctx, dialogue: Dialogue, enrollment: i64) -> Outcome {
    let t = ctx.texts;
    let e = match usable(ctx, enrollment) {
        Ok(e) => e,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    if missing(e).is_some() {
        return ask_next(ctx, e);
    }
    let Some((course, group)) = ctx.catalog.group(&e.group_id) else {
        return stale(ctx, dialogue);
    };
    let first_time = !e.enrolled;
    let text = if first_time {
        tr!(
            t,
            "enrolled",
            title = &course.title,
            group = &group.title,
            dates = date_range(t, group.starts_on, group.ends_on)
        )
    } else {
        tr!(t, "docs-resubmitted")
    };
    Outcome::stay(Dialogue::Idle)
        .run(Command::Submit { enrollment })
        .run(Command::AlertStaff(StaffAlert::ApplicationReady {
            enrollment,
        }))
        .edit(Reply::text(tr!(t, "docs-submitted")))
        .say(Reply::text(text).with_menu())
}

pub fn on_event(ctx: &Ctx, dialogue: Dialogue, event: Event) -> Outcome {
    let t = ctx.texts;
    match event {
        Event::DocumentStored {
            enrollment,
            kind,
            file_name,
            duplicate,
        } => {
            let text = if duplicate {
                tr!(
                    t,
                    "doc-duplicate",
                    file = file_name,
                    kind = kind_name(ctx, kind)
                )
            } else {
                tr!(
                    t,
                    "doc-stored",
                    file = file_name,
                    kind = kind_name(ctx, kind)
                )
            };
            Outcome::stay(dialogue).say(Reply::text(text).button(Button::action(
                tr!(t, "btn-docs-next"),
                Action::Docs(enrollment),
            )))
        }
        Event::DocumentRefused { reason, .. } => refused(ctx, dialogue, &reason),
        Event::ReviewAccepted { enrollment } => {
            let title = ctx
                .learner
                .enrollment(enrollment)
                .and_then(|e| ctx.catalog.course(&e.course_id))
                .map(|c| c.title.clone())
                .unwrap_or_default();
            Outcome::stay(dialogue).say(Reply::text(tr!(t, "review-accepted", title = title)))
        }
        Event::DocumentReturned {
            enrollment,
            kind,
            file_name,
            reason,
        } => {
            let reply = Reply::text(tr!(
                t,
                "review-returned",
                kind = kind_name(ctx, kind),
                file = file_name,
                reason = reason
            ));
            // Only take over the conversation when the learner is not in the middle of something.
            let next = if matches!(dialogue, Dialogue::Idle) {
                Dialogue::Documents {
                    enrollment,
                    kind,
                    replace: true,
                }
            } else {
                dialogue
            };
            Outcome::stay(next).say(reply.button(Button::action(
                tr!(t, "btn-doc-resend", kind = kind_name(ctx, kind)),
                Action::DocReplace(enrollment, kind),
            )))
        }
        _ => Outcome::stay(dialogue),
    }
}
