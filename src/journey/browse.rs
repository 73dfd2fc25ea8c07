//! The catalog: sections → courses (paged) → course card → offer contract.
use chrono::{Datelike, NaiveDate};

use super::action::Action;
use super::reply::{Button, Reply};
use super::{registration, stale, status, Command, Ctx, Dialogue, Intent, Outcome, StaffAlert};
use crate::domain::catalog::{Course, Group, ProgramKind};
use crate::texts::Texts;
use crate::tr;

pub const PAGE_SIZE: usize = 5;

pub fn program_name(t: &Texts, p: ProgramKind) -> String {
    match p {
        ProgramKind::Qualification => tr!(t, "program-qualification"),
        ProgramKind::Retraining => tr!(t, "program-retraining"),
        ProgramKind::Vocational => tr!(t, "program-vocational"),
    }
}

pub fn document_name(t: &Texts, d: crate::domain::catalog::DocumentKind) -> String {
    use crate::domain::catalog::DocumentKind as D;
    match d {
        D::Certificate => tr!(t, "document-certificate"),
        D::Diploma => tr!(t, "document-diploma"),
        D::Svidetelstvo => tr!(t, "document-svidetelstvo"),
    }
}

/// «7 декабря 2026 г.»
pub fn date_long(t: &Texts, d: NaiveDate) -> String {
    tr!(
        t,
        "date-long",
        day = d.day(),
        month = d.month(),
        year = d.year()
    )
}

pub fn date_range(t: &Texts, from: NaiveDate, to: NaiveDate) -> String {
    tr!(
        t,
        "date-range",
        from = date_long(t, from),
        to = date_long(t, to)
    )
}

pub fn sections(ctx: &Ctx) -> Reply {
    let t = ctx.texts;
    let mut reply = Reply::text(tr!(t, "catalog-sections"));
    for p in ProgramKind::ALL {
        let count = ctx.catalog.courses_in(p).count();
        if count > 0 {
            reply = reply.button(Button::action(
                tr!(
                    t,
                    "catalog-section-button",
                    section = program_name(t, p),
                    count = count
                ),
                Action::Section(p, 0),
            ));
        }
    }
    reply
}

pub fn section(ctx: &Ctx, program: ProgramKind, page: u8) -> Reply {
    let t = ctx.texts;
    let courses: Vec<&Course> = ctx.catalog.courses_in(program).collect();
    let pages = courses.len().div_ceil(PAGE_SIZE).max(1);
    let page = usize::from(page).min(pages - 1);
    let mut reply = Reply::text(tr!(
        t,
        "catalog-section",
        section = program_name(t, program),
        page = page + 1,
        pages = pages
    ));
    for c in courses.iter().skip(page * PAGE_SIZE).take(PAGE_SIZE) {
        reply = reply.button(Button::action(
            tr!(
                t,
                "catalog-course-button",
                title = &c.title,
                hours = tr!(t, "hours", count = c.hours)
            ),
            Action::Course(c.id.clone()),
        ));
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(Button::action(
            tr!(t, "btn-prev"),
            Action::Section(program, (page - 1) as u8),
        ));
    }
    if page + 1 < pages {
        nav.push(Button::action(
            tr!(t, "btn-next"),
            Action::Section(program, (page + 1) as u8),
        ));
    }
    reply
        .row(nav)
        .button(Button::action(tr!(t, "btn-back-sections"), Action::Catalog))
}

/// Groups a learner can still join, earliest first.
pub fn open_groups<'a>(ctx: &Ctx, course: &'a Course) -> Vec<&'a Group> {
    let today = ctx.today();
    let mut groups: Vec<&Group> = course
        .groups
        .iter()
        .filter(|g| g.ends_on >= today)
        .collect();
    groups.sort_by_key(|g| g.starts_on);
    groups
}

pub fn course_card(ctx: &Ctx, course_id: &str) -> Reply {
    let t = ctx.texts;
    let Some(course) = ctx.catalog.course(course_id) else {
        return Reply::text(tr!(t, "course-unknown"))
            .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog));
    };
    let groups = open_groups(ctx, course);
    let next = match groups.first() {
        Some(g) => tr!(
            t,
            "course-next-group",
            dates = date_range(t, g.starts_on, g.ends_on)
        ),
        None => tr!(t, "course-no-group"),
    };
    let mut reply = Reply::text(tr!(
        t,
        "course-card",
        title = &course.title,
        program = program_name(t, course.program),
        hours = tr!(t, "hours", count = course.hours),
        price = course.price.display_rub(),
        format = &course.format,
        document = document_name(t, course.document),
        next = crate::texts::Html(next),
        description = &course.description
    ));
    for g in groups.iter().take(3) {
        let label = if ctx.learner.enrollment_in(&g.id).is_some() {
            tr!(
                t,
                "btn-enrolled-group",
                dates = date_range(t, g.starts_on, g.ends_on)
            )
        } else if groups.len() == 1 {
            tr!(t, "btn-enroll")
        } else {
            tr!(
                t,
                "btn-enroll-group",
                dates = date_range(t, g.starts_on, g.ends_on)
            )
        };
        reply = reply.button(Button::action(label, Action::Enroll(g.id.clone())));
    }
    reply.button(Button::action(
        tr!(t, "btn-back"),
        Action::Section(course.program, 0),
    ))
}

/// Checks shared by «Записаться» and the acceptance of the offer.
fn joinable<'a>(ctx: &'a Ctx, group_id: &str) -> Result<(&'a Course, &'a Group), Reply> {
    let t = ctx.texts;
    let Some((course, group)) = ctx.catalog.group(group_id) else {
        return Err(Reply::text(tr!(t, "course-unknown"))
            .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog)));
    };
    if group.ends_on < ctx.today() {
        return Err(Reply::text(tr!(t, "group-closed")).button(Button::action(
            tr!(t, "btn-back"),
            Action::Course(course.id.clone()),
        )));
    }
    Ok((course, group))
}

pub fn enroll(ctx: &Ctx, dialogue: Dialogue, group_id: &str) -> Outcome {
    if let Err(reply) = joinable(ctx, group_id) {
        return Outcome::stay(dialogue).say(reply);
    }
    let then = Some(Intent::Enroll {
        group_id: group_id.to_owned(),
    });
    if !ctx.learner.consented(&ctx.school.consent_version) {
        return registration::require_consent(ctx, then);
    }
    if ctx.learner.email.is_none() {
        return registration::require_email(ctx, then);
    }
    let next = offer(ctx, group_id);
    if next.dialogue == Dialogue::Idle {
        Outcome { dialogue, ..next }
    } else {
        next
    }
}

/// The offer contract and the button that accepts it (or the learner's status when they are
/// already in the group).
pub fn offer(ctx: &Ctx, group_id: &str) -> Outcome {
    let t = ctx.texts;
    let (course, group) = match joinable(ctx, group_id) {
        Ok(found) => found,
        Err(reply) => return Outcome::stay(Dialogue::Idle).say(reply),
    };
    if ctx.learner.enrollment_in(group_id).is_some() {
        return Outcome::stay(Dialogue::Idle)
            .say(Reply::text(tr!(
                t,
                "already-enrolled",
                title = &course.title
            )))
            .say(status::status(ctx));
    }
    let Some(offer) = ctx.catalog.offer_for(course) else {
        return Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(
            t,
            "offer-missing",
            school_email = &ctx.school.email
        )));
    };
    Outcome::stay(Dialogue::Idle).say(
        Reply::text(tr!(
            t,
            "offer",
            offer = &offer.title,
            version = &offer.version,
            title = &course.title,
            dates = date_range(t, group.starts_on, group.ends_on),
            price = course.price.display_rub(),
            school = &ctx.school.name
        ))
        .button(Button::url(tr!(t, "btn-offer-read"), &offer.url))
        .button(Button::action(
            tr!(t, "btn-offer-accept"),
            Action::AcceptOffer(group_id.to_owned()),
        ))
        .button(Button::action(
            tr!(t, "btn-back"),
            Action::Course(course.id.clone()),
        )),
    )
}

pub fn accept_offer(ctx: &Ctx, dialogue: Dialogue, group_id: &str) -> Outcome {
    if let Err(reply) = joinable(ctx, group_id) {
        return Outcome::stay(dialogue).say(reply);
    }
    if !ctx.learner.consented(&ctx.school.consent_version) || ctx.learner.email.is_none() {
        return enroll(ctx, dialogue, group_id);
    }
    if ctx.learner.enrollment_in(group_id).is_some() {
        return stale(ctx, dialogue);
    }
    Outcome::stay(dialogue)
        .toast(tr!(ctx.texts, "offer-accepted-toast"))
        .run(Command::AcceptOffer {
            group_id: group_id.to_owned(),
        })
}

pub fn offer_accepted(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, group_id: &str) -> Outcome {
    let t = ctx.texts;
    let Some((course, _)) = ctx.catalog.group(group_id) else {
        return Outcome::stay(dialogue);
    };
    let offer_title = ctx
        .catalog
        .offer_for(course)
        .map(|o| o.title.clone())
        .unwrap_or_default();
    Outcome::stay(dialogue)
        .edit(Reply::text(tr!(
            t,
            "offer-accepted",
            offer = offer_title,
            title = &course.title
        )))
        .run(Command::AlertStaff(StaffAlert::OfferAccepted {
            enrollment,
        }))
        .run(Command::RequestPayment {
            enrollment,
            fresh: false,
        })
}
