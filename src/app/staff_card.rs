//! What staff see: a learner's card, a group's roster (and its CSV for printing documents),
//! pending work, statistics, the audit trail. Read from the store, rendered as replies.
use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone};
use sqlx::AnyConnection;

use super::alerts::{doc_kind_name, person_name, via_name};
use super::staff_auth::{Signer, StaffAction};
use super::{view, App};
use crate::config::StaffRole;
use crate::domain::catalog::{Catalog, Money};
use crate::journey::browse::date_range;
use crate::journey::reply::{escape, Button, Reply};
use crate::journey::status::{stage, Stage};
use crate::journey::view::EnrollmentView;
use crate::store::{self, audit, enrollments, learners, LearnerRecord};
use crate::texts::{Html, Texts};
use crate::tr;

/// Where a staff reply goes: a chat (the staff chat or a staff member's private chat) and,
/// in a forum, the topic the request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub chat_id: i64,
    pub thread_id: Option<i32>,
}

/// A stage as staff read it.
pub fn stage_label(t: &Texts, stage: &Stage) -> String {
    match stage {
        Stage::AwaitingPayment => tr!(t, "staff-stage-awaiting-payment"),
        Stage::ApplicationForm => tr!(t, "staff-stage-application"),
        Stage::Documents => tr!(t, "staff-stage-documents"),
        Stage::DocumentReturned { note } => tr!(t, "staff-stage-returned", note = note),
        Stage::UnderReview => tr!(t, "staff-stage-under-review"),
        Stage::Accepted => tr!(t, "staff-stage-accepted"),
    }
}

/// A stable key of a stage, for counting.
fn stage_key(stage: &Stage) -> u8 {
    match stage {
        Stage::AwaitingPayment => 0,
        Stage::ApplicationForm => 1,
        Stage::Documents => 2,
        Stage::DocumentReturned { .. } => 3,
        Stage::UnderReview => 4,
        Stage::Accepted => 5,
    }
}

fn stage_of_key(key: u8) -> Stage {
    match key {
        0 => Stage::AwaitingPayment,
        1 => Stage::ApplicationForm,
        2 => Stage::Documents,
        3 => Stage::DocumentReturned {
            note: String::new(),
        },
        4 => Stage::UnderReview,
        _ => Stage::Accepted,
    }
}

/// Date and time in the school's time zone, «25.11.2026 14:05».
pub fn when(app: &App, ts: i64) -> String {
    match app.school.tz.timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%d.%m.%Y %H:%M").to_string(),
        None => ts.to_string(),
    }
}

fn course_group(catalog: &Catalog, t: &Texts, e: &EnrollmentView) -> (String, String, String) {
    match catalog.group(&e.group_id) {
        Some((c, g)) => (
            c.title.clone(),
            g.title.clone(),
            date_range(t, g.starts_on, g.ends_on),
        ),
        None => (e.course_id.clone(), e.group_id.clone(), String::new()),
    }
}

/// The learner's card: contacts, and for every course the stage, order, documents, test
/// results and the qualification document; buttons for what the viewer may do.
pub async fn learner_card(
    app: &App,
    conn: &mut AnyConnection,
    signer: &Signer,
    place: Place,
    role: StaffRole,
    learner: &LearnerRecord,
) -> store::Result<Reply> {
    let t = &app.texts;
    let catalog = app.catalog_in(conn).await?;
    let name = person_name(conn, learner).await?;
    let form = enrollments::last_application_of(conn, learner.id)
        .await?
        .unwrap_or_default();
    let mut blocks = Vec::new();
    let mut buttons: Vec<Vec<Button>> = Vec::new();
    let mut document_count = 0;
    for record in enrollments::of_learner(conn, learner.id).await? {
        let e = view::enrollment_view(conn, record.clone()).await?;
        let (course, group, dates) = course_group(&catalog, t, &e);
        let order = enrollments::order_of(conn, e.id).await?;
        let order_line = match &order {
            Some(o) if o.status == "paid" => tr!(
                t,
                "staff-card-order-paid",
                order = o.id,
                amount = Money(o.amount_kopecks).display_rub(),
                via = via_name(app, o.paid_via.as_deref().unwrap_or_default()),
                at = when(app, o.paid_at.unwrap_or_default())
            ),
            Some(o) => tr!(
                t,
                "staff-card-order-unpaid",
                order = o.id,
                amount = Money(o.amount_kopecks).display_rub()
            ),
            None => String::new(),
        };
        let docs: Vec<String> = enrollments::documents_of_enrollment(conn, e.id)
            .await?
            .into_iter()
            .filter(|d| d.status != "replaced")
            .map(|d| {
                document_count += 1;
                tr!(
                    t,
                    "staff-card-document",
                    kind = doc_kind_name(app, &d.kind),
                    file = d.file_name,
                    status = document_status(t, &d.status),
                    id = d.id
                )
            })
            .collect();
        let tests: Vec<String> = store::staff::test_attempts(conn, e.id)
            .await?
            .into_iter()
            .filter(|a| a.finished_at.is_some())
            .map(|a| {
                tr!(
                    t,
                    "staff-card-test",
                    number = a.number,
                    score = a.score.unwrap_or(0),
                    total = a.total.unwrap_or(0),
                    passed = if a.passed == Some(1) { "yes" } else { "no" }
                )
            })
            .collect();
        let certificate = store::staff::certificate(conn, e.id).await?;
        let certificate_line = certificate
            .as_ref()
            .map(|c| certificate_line(app, c))
            .unwrap_or_default();
        blocks.push(tr!(
            t,
            "staff-card-enrollment",
            course = course,
            group = group,
            dates = dates,
            enrollment = e.id,
            stage = stage_label(t, &stage(&e)),
            order = Html(order_line),
            documents = Html(if docs.is_empty() {
                tr!(t, "staff-card-no-documents")
            } else {
                docs.join("\n")
            }),
            tests = Html(tests.join("\n")),
            certificate = Html(certificate_line)
        ));
        let mut row = Vec::new();
        if stage(&e) == Stage::UnderReview {
            row.push(Button::action(
                tr!(t, "btn-staff-accept-n", enrollment = e.id),
                signer.sign(place.chat_id, &StaffAction::Accept(e.id)),
            ));
            row.push(Button::action(
                tr!(t, "btn-staff-return-n", enrollment = e.id),
                signer.sign(place.chat_id, &StaffAction::Return(e.id)),
            ));
        }
        if certificate
            .as_ref()
            .is_some_and(|c| c.confirmed_at.is_some() && c.printed_at.is_none())
        {
            row.push(Button::action(
                tr!(t, "btn-staff-printed-n", enrollment = e.id),
                signer.sign(place.chat_id, &StaffAction::Printed(e.id)),
            ));
        }
        if !row.is_empty() {
            buttons.push(row);
        }
    }
    let text = tr!(
        t,
        "staff-card",
        name = &name,
        id = learner.id,
        username = learner
            .tg_username
            .as_ref()
            .map(|u| format!("@{u}"))
            .unwrap_or_else(|| "—".into()),
        email = learner.email.clone().unwrap_or_else(|| "—".into()),
        phone = form.get("phone").cloned().unwrap_or_else(|| "—".into()),
        since = when(app, learner.created_at),
        courses = Html(if blocks.is_empty() {
            tr!(t, "staff-card-no-courses")
        } else {
            blocks.join("\n\n")
        })
    );
    let mut reply = Reply::text(fit(t, text));
    for row in buttons {
        reply = reply.row(row);
    }
    let mut last = Vec::new();
    if document_count > 0 {
        last.push(Button::action(
            tr!(t, "btn-staff-docs", count = document_count),
            signer.sign(place.chat_id, &StaffAction::Docs(learner.id)),
        ));
    }
    if role >= StaffRole::Admin {
        last.push(Button::action(
            tr!(t, "btn-staff-audit"),
            signer.sign(place.chat_id, &StaffAction::Audit(learner.id)),
        ));
    }
    Ok(reply.row(last))
}

/// Text cut to what one Telegram message holds, saying so.
pub fn fit(t: &Texts, text: String) -> String {
    const LIMIT: usize = 3900;
    if text.chars().count() <= LIMIT {
        return text;
    }
    // Cut at a line end so no HTML tag is left open (tags never span lines here).
    let mut out = String::new();
    for line in text.lines() {
        if out.chars().count() + line.chars().count() + 1 > LIMIT {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&tr!(t, "staff-truncated"));
    out
}

fn document_status(t: &Texts, status: &str) -> String {
    match status {
        "accepted" => tr!(t, "staff-doc-accepted"),
        "returned" => tr!(t, "staff-doc-returned"),
        _ => tr!(t, "staff-doc-received"),
    }
}

fn certificate_line(app: &App, c: &store::staff::CertificateRow) -> String {
    let t = &app.texts;
    let state = if let Some(number) = &c.tracking_number {
        tr!(t, "staff-certificate-posted", tracking = number)
    } else if c.printed_at.is_some() {
        tr!(t, "staff-certificate-printed")
    } else if c.confirmed_at.is_some() {
        tr!(t, "staff-certificate-confirmed")
    } else {
        tr!(t, "staff-certificate-sample")
    };
    tr!(
        t,
        "staff-card-certificate",
        number = &c.registration_number,
        state = Html(state)
    )
}

/// One learner of a group: the enrollment, the learner, the stage, the form.
pub struct RosterEntry {
    pub enrollment: EnrollmentView,
    pub learner: LearnerRecord,
    pub name: String,
    pub certificate: Option<store::staff::CertificateRow>,
}

pub async fn roster(conn: &mut AnyConnection, group_id: &str) -> store::Result<Vec<RosterEntry>> {
    let mut out = Vec::new();
    for record in enrollments::in_group(conn, group_id).await? {
        let Some(learner) = learners::by_id(conn, record.learner_id).await? else {
            continue;
        };
        let e = view::enrollment_view(conn, record).await?;
        let name = Some(crate::journey::application::full_name(&e.form))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| learner.display_name.clone());
        let certificate = store::staff::certificate(conn, e.id).await?;
        out.push(RosterEntry {
            enrollment: e,
            learner,
            name,
            certificate,
        });
    }
    out.sort_by_key(|r| r.name.to_lowercase());
    Ok(out)
}

/// The roster message(s) of a group: one line per learner with the stage.
pub fn roster_text(
    app: &App,
    catalog: &Catalog,
    group_id: &str,
    entries: &[RosterEntry],
) -> String {
    let t = &app.texts;
    let (course, group, dates) = match catalog.group(group_id) {
        Some((c, g)) => (
            c.title.clone(),
            g.title.clone(),
            date_range(t, g.starts_on, g.ends_on),
        ),
        None => (String::new(), group_id.to_owned(), String::new()),
    };
    let lines: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(n, r)| {
            tr!(
                t,
                "staff-roster-line",
                n = n + 1,
                name = &r.name,
                id = r.learner.id,
                stage = stage_label(t, &stage(&r.enrollment))
            )
        })
        .collect();
    fit(
        t,
        tr!(
            t,
            "staff-roster",
            group = group,
            course = course,
            dates = dates,
            count = entries.len(),
            lines = Html(lines.join("\n"))
        ),
    )
}

/// One row of the printing roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub full_name: String,
    pub birth_date: String,
    pub snils: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    pub course: String,
    pub hours: u32,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub document: String,
    pub registration_number: String,
    pub stage: String,
}

/// The roster as CSV the Russian Excel opens by double-click: UTF-8 with a BOM, `;` between
/// fields, CRLF line ends, quotes where needed, and cells that would start a formula made
/// harmless.
pub fn roster_csv(t: &Texts, rows: &[CsvRow]) -> Vec<u8> {
    let header = [
        tr!(t, "csv-number"),
        tr!(t, "csv-full-name"),
        tr!(t, "csv-birth-date"),
        tr!(t, "csv-snils"),
        tr!(t, "csv-address"),
        tr!(t, "csv-phone"),
        tr!(t, "csv-email"),
        tr!(t, "csv-course"),
        tr!(t, "csv-hours"),
        tr!(t, "csv-starts"),
        tr!(t, "csv-ends"),
        tr!(t, "csv-document"),
        tr!(t, "csv-registration-number"),
        tr!(t, "csv-stage"),
    ];
    let date = |d: Option<NaiveDate>| {
        d.map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or_default()
    };
    let mut out = String::from("\u{feff}");
    let mut push_row = |cells: &[String]| {
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    };
    push_row(&header);
    for (n, r) in rows.iter().enumerate() {
        push_row(&[
            (n + 1).to_string(),
            r.full_name.clone(),
            r.birth_date.clone(),
            r.snils.clone(),
            r.address.clone(),
            r.phone.clone(),
            r.email.clone(),
            r.course.clone(),
            r.hours.to_string(),
            date(r.starts_on),
            date(r.ends_on),
            r.document.clone(),
            r.registration_number.clone(),
            r.stage.clone(),
        ]);
    }
    out.into_bytes()
}

/// One CSV cell: quoted when it holds `;`, a quote or a line break; a leading `=`, `@`, `+`
/// or `-` that Excel would run as a formula gets an apostrophe (a phone number such as
/// +79123456789 stays as it is: it is no formula).
pub fn csv_cell(value: &str) -> String {
    let looks_numeric = value
        .chars()
        .skip(1)
        .all(|c| c.is_ascii_digit() || " ()-".contains(c));
    let risky = match value.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !looks_numeric || value.len() == 1,
        _ => false,
    };
    let value = if risky {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

pub fn csv_rows(app: &App, catalog: &Catalog, entries: &[RosterEntry]) -> Vec<CsvRow> {
    let t = &app.texts;
    entries
        .iter()
        .map(|r| {
            let f = &r.enrollment.form;
            let field = |k: &str| f.get(k).cloned().unwrap_or_default();
            let (course, hours, starts, ends, document) =
                match catalog.group(&r.enrollment.group_id) {
                    Some((c, g)) => (
                        c.title.clone(),
                        c.hours,
                        Some(g.starts_on),
                        Some(g.ends_on),
                        document_name(t, c.document.code()),
                    ),
                    None => (r.enrollment.course_id.clone(), 0, None, None, String::new()),
                };
            CsvRow {
                full_name: r.name.clone(),
                birth_date: field("birth_date"),
                snils: field("snils"),
                address: field("address"),
                phone: field("phone"),
                email: r.learner.email.clone().unwrap_or_else(|| field("email")),
                course,
                hours,
                starts_on: starts,
                ends_on: ends,
                document,
                registration_number: r
                    .certificate
                    .as_ref()
                    .map(|c| c.registration_number.clone())
                    .unwrap_or_default(),
                stage: crate::journey::reply::plain_text(&stage_label(t, &stage(&r.enrollment))),
            }
        })
        .collect()
}

fn document_name(t: &Texts, code: &str) -> String {
    match code {
        "certificate" => tr!(t, "csv-document-certificate"),
        "diploma" => tr!(t, "csv-document-diploma"),
        _ => tr!(t, "csv-document-svidetelstvo"),
    }
}

/// Counts by stage, overall and per course.
pub async fn stats(app: &App, conn: &mut AnyConnection) -> store::Result<String> {
    let t = &app.texts;
    let catalog = app.catalog_in(conn).await?;
    let mut overall: BTreeMap<u8, usize> = BTreeMap::new();
    let mut per_course: BTreeMap<String, BTreeMap<u8, usize>> = BTreeMap::new();
    let mut total = 0;
    for id in store::staff::all_enrollments(conn).await? {
        let Some(record) = enrollments::by_id(conn, id).await? else {
            continue;
        };
        let e = view::enrollment_view(conn, record).await?;
        let key = stage_key(&stage(&e));
        total += 1;
        *overall.entry(key).or_default() += 1;
        let course = catalog
            .course(&e.course_id)
            .map(|c| c.title.clone())
            .unwrap_or_else(|| e.course_id.clone());
        *per_course
            .entry(course)
            .or_default()
            .entry(key)
            .or_default() += 1;
    }
    let counts = |m: &BTreeMap<u8, usize>| -> String {
        m.iter()
            .map(|(k, n)| {
                let stage = match stage_of_key(*k) {
                    Stage::DocumentReturned { .. } => tr!(t, "staff-stage-returned-any"),
                    other => stage_label(t, &other),
                };
                tr!(t, "staff-stats-count", stage = stage, count = *n)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let courses: Vec<String> = per_course
        .iter()
        .map(|(course, m)| {
            tr!(
                t,
                "staff-stats-course",
                course = course,
                count = m.values().sum::<usize>(),
                stages = Html(counts(m))
            )
        })
        .collect();
    Ok(fit(
        t,
        tr!(
            t,
            "staff-stats",
            total = total,
            stages = Html(counts(&overall)),
            courses = Html(courses.join("\n\n"))
        ),
    ))
}

/// What waits for staff: applications to review, confirmed samples to print, letters with
/// documents to post, and (without an online provider) orders to confirm by hand.
pub async fn pending(
    app: &App,
    conn: &mut AnyConnection,
    signer: &Signer,
    place: Place,
) -> store::Result<Reply> {
    let t = &app.texts;
    let catalog = app.catalog_in(conn).await?;
    let mut cards: Vec<i64> = Vec::new();
    let mut sections = Vec::new();
    let subject = |group_id: &str| match catalog.group(group_id) {
        Some((c, g)) => tr!(t, "alert-line-course", course = &c.title, group = &g.title),
        None => escape(group_id),
    };

    let mut lines = Vec::new();
    for (enrollment, learner_id, group_id) in store::staff::pending_reviews(conn).await? {
        let name = learner_name(conn, learner_id).await?;
        lines.push(tr!(
            t,
            "staff-pending-line",
            name = name,
            id = learner_id,
            what = Html(subject(&group_id)),
            enrollment = enrollment
        ));
        cards.push(learner_id);
    }
    sections.push(section(t, tr!(t, "staff-pending-reviews"), lines));

    for (title, rows) in [
        (
            tr!(t, "staff-pending-print"),
            store::staff::certificates_to_print(conn).await?,
        ),
        (
            tr!(t, "staff-pending-post"),
            store::staff::certificates_to_post(conn).await?,
        ),
    ] {
        let mut lines = Vec::new();
        for c in rows {
            let Some(e) = enrollments::by_id(conn, c.enrollment_id).await? else {
                continue;
            };
            lines.push(tr!(
                t,
                "staff-pending-certificate",
                name = &c.full_name,
                id = e.learner_id,
                number = &c.registration_number,
                what = Html(subject(&e.group_id))
            ));
            cards.push(e.learner_id);
        }
        sections.push(section(t, title, lines));
    }

    if !matches!(app.payments, super::payments::Provider::YooKassa { .. }) {
        let mut lines = Vec::new();
        for (order, _, learner_id, amount) in store::staff::unpaid_orders(conn).await? {
            let name = learner_name(conn, learner_id).await?;
            lines.push(tr!(
                t,
                "staff-pending-order",
                order = order,
                name = name,
                id = learner_id,
                amount = Money(amount).display_rub()
            ));
        }
        sections.push(section(t, tr!(t, "staff-pending-orders"), lines));
    }

    let mut reply = Reply::text(fit(
        t,
        tr!(t, "staff-pending", sections = Html(sections.join("\n\n"))),
    ));
    cards.dedup();
    let mut seen = Vec::new();
    for id in cards {
        if seen.contains(&id) || seen.len() >= 10 {
            continue;
        }
        seen.push(id);
    }
    for pair in seen.chunks(2) {
        reply = reply.row(
            pair.iter()
                .map(|id| {
                    Button::action(
                        tr!(t, "btn-staff-card-n", id = *id),
                        signer.sign(place.chat_id, &StaffAction::Card(*id)),
                    )
                })
                .collect(),
        );
    }
    Ok(reply)
}

fn section(t: &Texts, title: String, lines: Vec<String>) -> String {
    if lines.is_empty() {
        tr!(t, "staff-pending-none", title = title)
    } else {
        tr!(
            t,
            "staff-pending-section",
            title = title,
            count = lines.len(),
            lines = Html(lines.join("\n"))
        )
    }
}

async fn learner_name(conn: &mut AnyConnection, learner_id: i64) -> store::Result<String> {
    Ok(match learners::by_id(conn, learner_id).await? {
        Some(l) => person_name(conn, &l).await?,
        None => String::new(),
    })
}

/// A learner's audit trail, newest last.
pub async fn audit_trail(
    app: &App,
    conn: &mut AnyConnection,
    learner: &LearnerRecord,
) -> store::Result<String> {
    const SHOWN: usize = 40;
    let t = &app.texts;
    let entries = audit::for_learner(conn, learner.id).await?;
    let skipped = entries.len().saturating_sub(SHOWN);
    let lines: Vec<String> = entries
        .iter()
        .skip(skipped)
        .map(|e| {
            tr!(
                t,
                "staff-audit-line",
                at = when(app, e.at),
                actor = actor_name(app, &e.actor),
                action = &e.action,
                details = &e.details
            )
        })
        .collect();
    let name = person_name(conn, learner).await?;
    Ok(fit(
        t,
        tr!(
            t,
            "staff-audit",
            name = name,
            id = learner.id,
            count = entries.len(),
            skipped = skipped,
            lines = Html(if lines.is_empty() {
                tr!(t, "staff-audit-empty")
            } else {
                lines.join("\n")
            })
        ),
    ))
}

/// «администратор 5002» for `staff:5002`; other actors as they are.
fn actor_name(app: &App, actor: &str) -> String {
    let t = &app.texts;
    match actor
        .strip_prefix("staff:")
        .and_then(|id| id.parse::<i64>().ok())
    {
        Some(id) => match app.staff.role(id) {
            Some(StaffRole::Admin) => tr!(t, "staff-actor-admin", id = id),
            Some(StaffRole::Manager) => tr!(t, "staff-actor-manager", id = id),
            None => tr!(t, "staff-actor-former", id = id),
        },
        None => actor.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_excel_would_run_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        // A phone number and ordinary text stay as they are.
        assert_eq!(csv_cell("+79123456789"), "+79123456789");
        assert_eq!(csv_cell("Иванова Мария"), "Иванова Мария");
        assert_eq!(
            csv_cell("620014, г. Екатеринбург; ул. Ленина"),
            "\"620014, г. Екатеринбург; ул. Ленина\""
        );
        assert_eq!(csv_cell("две\nстроки"), "\"две\nстроки\"");
    }
}
