//! Staff commands (in the staff chat and in a staff member's private chat) and staff
//! buttons: who may, what happens, what is written to the audit log.
//!
//! | command | what | least role |
//! |---|---|---|
//! | `/find <name, email or phone>` | a learner's card | manager |
//! | `/group <id>` | the roster with stages, and its CSV for printing | manager |
//! | `/pending` | what waits for staff | manager |
//! | `/stats` | counts by stage and by course | manager |
//! | `/track <learner> <number>` | the tracking number of the letter with the document | manager |
//! | `/paid <order> <reason>` | an order paid by bank transfer, after a confirmation | admin |
//! | `/broadcast <group> [text]` | a message to the whole group, after a preview | admin |
//! | `/audit <learner>` | the learner's audit trail | admin |
use sqlx::AnyConnection;

use super::messenger::Messenger;
use super::staff::{self as decisions, Press};
use super::staff_auth::{actor, authorize, signer, Denied, Permission, Signer, StaffAction};
use super::staff_card::{self as card, Place};
use super::App;
use crate::config::StaffRole;
use crate::domain::catalog::Money;
use crate::domain::tracking::TrackingNumber;
use crate::journey::reply::{escape, plain_text, Button, Reply};
use crate::store::{self, audit, enrollments, learners, LearnerRecord};
use crate::texts::Html;
use crate::tr;

/// The staff commands, as set in the command menus of staff chats.
pub const COMMANDS: [&str; 9] = [
    "find",
    "group",
    "pending",
    "stats",
    "track",
    "paid",
    "broadcast",
    "audit",
    "staff",
];

const PAID: &str = "paid";
const BROADCAST: &str = "broadcast";
/// A request waiting for the tracking number of a printed document, typed as a reply.
const TRACKING: &str = "tracking-number";

/// A message from a staff chat as the staff side needs it.
pub struct StaffMessage<'a> {
    pub user_id: i64,
    pub chat_id: i64,
    pub thread_id: Option<i32>,
    pub text: &'a str,
    /// The bot's message this one replies to.
    pub reply_to_bot: Option<i32>,
    /// Sent in the configured staff chat (else a private chat).
    pub in_staff_chat: bool,
    /// The Telegram update that brought it (claimed, so a repeat changes and posts nothing).
    pub update_id: Option<i64>,
}

impl StaffMessage<'_> {
    fn place(&self) -> Place {
        Place {
            chat_id: self.chat_id,
            thread_id: self.thread_id,
        }
    }
}

/// `/find@bot args` → ("find", "args").
pub fn split_command(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('/')?;
    let (command, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let command = command.split('@').next().unwrap_or("").to_lowercase();
    Some((command, args.trim()))
}

/// True for a staff command (a staff member's private chat sends these here).
pub fn is_staff_command(text: &str) -> bool {
    split_command(text).is_some_and(|(c, _)| COMMANDS.contains(&c.as_str()))
}

async fn say(messenger: &dyn Messenger, place: Place, reply: &Reply) -> anyhow::Result<i32> {
    Ok(messenger
        .send_in(place.chat_id, place.thread_id, reply)
        .await?)
}

async fn say_text(messenger: &dyn Messenger, place: Place, text: String) -> anyhow::Result<()> {
    say(messenger, place, &Reply::text(text)).await.map(|_| ())
}

/// Claims a staff update before an action that is not one transaction (it posts, asks,
/// sends files): false when the update was claimed already (a webhook retry, a replay after
/// a crash) and must change and post nothing. At most once: when the action fails after the
/// claim, the staff member presses or types again.
pub(crate) async fn claim_first(app: &App, update_id: Option<i64>) -> anyhow::Result<bool> {
    let Some(update_id) = update_id else {
        return Ok(true);
    };
    let fresh = app
        .store
        .claim_update(update_id, app.now().timestamp())
        .await?;
    if !fresh {
        tracing::info!(update_id, "staff update delivered again; already applied");
    }
    Ok(fresh)
}

/// Writes a refused attempt to the audit log and tells the user why.
async fn refuse(app: &App, user_id: i64, denied: Denied, what: &str) -> anyhow::Result<String> {
    let now = app.now().timestamp();
    let mut conn = app.store.pool().acquire().await?;
    let who = match denied {
        Denied::NotStaff => format!("tg:{user_id}"),
        Denied::NeedsAdmin => actor(user_id),
    };
    audit::record(&mut conn, now, &who, "staff-action-refused", None, what).await?;
    tracing::warn!(user = user_id, what, "staff action refused");
    Ok(match denied {
        Denied::NotStaff => tr!(app.texts, "staff-only-command"),
        Denied::NeedsAdmin => tr!(app.texts, "staff-needs-admin"),
    })
}

/// A message in the staff chat, or a staff member's in their private chat. Returns false
/// when it is not the staff side's (a staff member talking to the bot as a learner).
pub async fn on_message(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
) -> anyhow::Result<bool> {
    if let Some(prompt) = m.reply_to_bot {
        let request = {
            let mut conn = app.store.pool().acquire().await?;
            store::staff::request_by_prompt(&mut conn, m.chat_id, i64::from(prompt)).await?
        };
        if let Some(request) = request {
            answer_prompt(app, messenger, m, &request).await?;
            return Ok(true);
        }
    }
    let Some((command, args)) = split_command(m.text) else {
        return Ok(m.in_staff_chat);
    };
    let command = match command.as_str() {
        "help" | "start" if m.in_staff_chat => "staff".to_owned(),
        _ => command,
    };
    if !COMMANDS.contains(&command.as_str()) {
        return Ok(m.in_staff_chat);
    }
    if !claim_first(app, m.update_id).await? {
        return Ok(true);
    }
    let permission = match command.as_str() {
        "paid" => Permission::MarkPaid,
        "broadcast" => Permission::Broadcast,
        "audit" => Permission::ReadAudit,
        "track" => Permission::Certificates,
        _ => Permission::ViewLearners,
    };
    let role = match authorize(app, m.user_id, permission) {
        Ok(role) => role,
        Err(denied) => {
            let text = refuse(app, m.user_id, denied, &format!("/{command}")).await?;
            say_text(messenger, m.place(), text).await?;
            return Ok(true);
        }
    };
    let result = match command.as_str() {
        "find" => find(app, messenger, m, role, args).await,
        "group" => group(app, messenger, m, args).await,
        "pending" => pending(app, messenger, m).await,
        "stats" => stats(app, messenger, m).await,
        "track" => track(app, messenger, m, args).await,
        "paid" => paid(app, messenger, m, args).await,
        "broadcast" => broadcast(app, messenger, m, args).await,
        "audit" => audit_command(app, messenger, m, args).await,
        _ => {
            say_text(messenger, m.place(), tr!(app.texts, "staff-help")).await?;
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::error!(command, error = %e, "staff command failed");
        say_text(messenger, m.place(), tr!(app.texts, "staff-command-failed"))
            .await
            .ok();
    }
    Ok(true)
}

/// A learner given as `12`, `№12` or `#12`.
fn learner_ref(arg: &str) -> Option<i64> {
    let digits = arg.trim().trim_start_matches(['№', '#']).trim();
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

async fn load_learner(conn: &mut AnyConnection, arg: &str) -> store::Result<Option<LearnerRecord>> {
    match learner_ref(arg) {
        Some(id) => learners::by_id(conn, id).await,
        None => Ok(None),
    }
}

// ---- /find and the card ----

/// Matches a search row against the query: words of a name in any case and order, an email
/// (or a part of it), a phone (its last ten digits), a Telegram username, a learner number.
pub fn matches(row: &store::staff::SearchRow, query: &str) -> bool {
    let query = query.trim();
    if query.is_empty() {
        return false;
    }
    if let Some(id) = learner_ref(query) {
        if query.chars().filter(char::is_ascii_digit).count() < 7 {
            return row.id == id;
        }
    }
    let form: std::collections::BTreeMap<String, String> = row
        .fields
        .as_deref()
        .and_then(|f| serde_json::from_str(f).ok())
        .unwrap_or_default();
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 7 && digits.len() * 2 >= query.chars().filter(|c| !c.is_whitespace()).count()
    {
        let tail = |s: &str| -> String {
            let d: String = s.chars().filter(char::is_ascii_digit).collect();
            d[d.len().saturating_sub(10)..].to_owned()
        };
        return form.get("phone").is_some_and(|p| tail(p) == tail(&digits));
    }
    let q = query.to_lowercase();
    if q.contains('@') && !q.starts_with('@') {
        return row
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains(&q))
            || form
                .get("email")
                .is_some_and(|e| e.to_lowercase().contains(&q));
    }
    if let Some(username) = q.strip_prefix('@') {
        return row
            .tg_username
            .as_deref()
            .is_some_and(|u| u.to_lowercase() == username);
    }
    let haystack = format!(
        "{} {} {} {}",
        row.display_name,
        crate::journey::application::full_name(&form),
        row.email.clone().unwrap_or_default(),
        row.tg_username.clone().unwrap_or_default()
    )
    .to_lowercase()
    .replace('ё', "е");
    q.replace('ё', "е")
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

async fn find(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    role: StaffRole,
    query: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    if query.is_empty() {
        return say_text(messenger, m.place(), tr!(t, "staff-find-usage")).await;
    }
    let mut conn = app.store.pool().acquire().await?;
    let mut found: Vec<i64> = Vec::new();
    for row in store::staff::search_rows(&mut conn).await? {
        if !found.contains(&row.id) && matches(&row, query) {
            found.push(row.id);
        }
    }
    let now = app.now().timestamp();
    audit::record(
        &mut conn,
        now,
        &actor(m.user_id),
        "learner-search",
        None,
        &format!("«{query}»: {}", found.len()),
    )
    .await?;
    let signer = signer(app, &mut conn).await?;
    match found.as_slice() {
        [] => {
            say_text(
                messenger,
                m.place(),
                tr!(t, "staff-find-none", query = query),
            )
            .await
        }
        [one] => {
            drop(conn);
            show_card(app, messenger, &signer, m.user_id, role, m.place(), *one).await
        }
        many => {
            let mut reply =
                Reply::text(tr!(t, "staff-find-many", count = many.len(), query = query));
            for id in many.iter().take(10) {
                let Some(l) = learners::by_id(&mut conn, *id).await? else {
                    continue;
                };
                let name = super::alerts::person_name(&mut conn, &l).await?;
                reply = reply.button(Button::action(
                    tr!(
                        t,
                        "btn-staff-found",
                        name = name,
                        id = l.id,
                        email = l.email.clone().unwrap_or_default()
                    ),
                    signer.sign(m.chat_id, &StaffAction::Card(l.id)),
                ));
            }
            say(messenger, m.place(), &reply).await.map(|_| ())
        }
    }
}

async fn show_card(
    app: &App,
    messenger: &dyn Messenger,
    signer: &Signer,
    user_id: i64,
    role: StaffRole,
    place: Place,
    learner_id: i64,
) -> anyhow::Result<()> {
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = learners::by_id(&mut conn, learner_id).await? else {
        return say_text(messenger, place, tr!(app.texts, "staff-no-learner")).await;
    };
    let reply = card::learner_card(app, &mut conn, signer, place, role, &learner).await?;
    audit::record(
        &mut conn,
        app.now().timestamp(),
        &actor(user_id),
        "learner-card-viewed",
        Some(learner.id),
        "",
    )
    .await?;
    drop(conn);
    say(messenger, place, &reply).await.map(|_| ())
}

// ---- /group and the CSV ----

async fn group(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    group_id: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let catalog = app.catalog().await?;
    let Some(group_id) = group_id.split_whitespace().next() else {
        return say_text(messenger, m.place(), tr!(t, "staff-group-usage")).await;
    };
    if catalog.group(group_id).is_none() {
        return say_text(
            messenger,
            m.place(),
            tr!(t, "staff-group-unknown", group = group_id),
        )
        .await;
    }
    let mut conn = app.store.pool().acquire().await?;
    let entries = card::roster(&mut conn, group_id).await?;
    let text = card::roster_text(app, &catalog, group_id, &entries);
    let signer = signer(app, &mut conn).await?;
    drop(conn);
    let reply = Reply::text(text).button(Button::action(
        tr!(t, "btn-staff-csv"),
        signer.sign(m.chat_id, &StaffAction::Csv(group_id.to_owned())),
    ));
    say(messenger, m.place(), &reply).await?;
    if !entries.is_empty() {
        if let Err(denied) = authorize(app, m.user_id, Permission::ExportRoster) {
            let text = refuse(app, m.user_id, denied, "roster csv").await?;
            return say_text(messenger, m.place(), text).await;
        }
        send_csv(app, messenger, m.user_id, m.place(), group_id).await?;
    }
    Ok(())
}

/// Sends the group's roster as a CSV file; the export is audited for each learner in it.
async fn send_csv(
    app: &App,
    messenger: &dyn Messenger,
    user_id: i64,
    place: Place,
    group_id: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let catalog = app.catalog().await?;
    let mut conn = app.store.pool().acquire().await?;
    let entries = card::roster(&mut conn, group_id).await?;
    drop(conn);
    let rows = card::csv_rows(app, &catalog, &entries);
    let bytes = card::roster_csv(t, &rows);
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    for e in &entries {
        audit::record(
            &mut tx,
            now,
            &actor(user_id),
            "roster-exported",
            Some(e.learner.id),
            &format!("group {group_id}, chat {}", place.chat_id),
        )
        .await?;
    }
    tx.commit().await?;
    messenger
        .send_file_in(
            place.chat_id,
            place.thread_id,
            &format!("{group_id}.csv"),
            bytes,
            &plain_text(&tr!(
                t,
                "staff-csv-caption",
                group = group_id,
                count = rows.len()
            )),
        )
        .await?;
    Ok(())
}

// ---- /pending, /stats, /audit ----

async fn pending(app: &App, messenger: &dyn Messenger, m: &StaffMessage<'_>) -> anyhow::Result<()> {
    let mut conn = app.store.pool().acquire().await?;
    let signer = signer(app, &mut conn).await?;
    let reply = card::pending(app, &mut conn, &signer, m.place()).await?;
    drop(conn);
    say(messenger, m.place(), &reply).await.map(|_| ())
}

async fn stats(app: &App, messenger: &dyn Messenger, m: &StaffMessage<'_>) -> anyhow::Result<()> {
    let mut conn = app.store.pool().acquire().await?;
    let text = card::stats(app, &mut conn).await?;
    drop(conn);
    say_text(messenger, m.place(), text).await
}

async fn audit_command(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    arg: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = load_learner(&mut conn, arg).await? else {
        return say_text(messenger, m.place(), tr!(t, "staff-audit-usage")).await;
    };
    show_audit(app, messenger, &mut conn, m.user_id, m.place(), &learner).await
}

async fn show_audit(
    app: &App,
    messenger: &dyn Messenger,
    conn: &mut AnyConnection,
    user_id: i64,
    place: Place,
    learner: &LearnerRecord,
) -> anyhow::Result<()> {
    let text = card::audit_trail(app, conn, learner).await?;
    audit::record(
        conn,
        app.now().timestamp(),
        &actor(user_id),
        "audit-viewed",
        Some(learner.id),
        "",
    )
    .await?;
    say_text(messenger, place, text).await
}

// ---- /track ----

async fn track(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    args: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let (who, number) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let mut conn = app.store.pool().acquire().await?;
    let Some(learner) = load_learner(&mut conn, who).await? else {
        return say_text(messenger, m.place(), tr!(t, "staff-track-usage")).await;
    };
    let number = match TrackingNumber::parse(number) {
        Ok(n) => n,
        Err(e) => {
            return say_text(messenger, m.place(), crate::journey::explain(t, &e)).await;
        }
    };
    let certificates = store::staff::certificates_of_learner(&mut conn, learner.id).await?;
    // The document still without a tracking number; else the latest (a correction).
    let Some(certificate) = certificates
        .iter()
        .rev()
        .find(|c| c.tracking_number.is_none())
        .or(certificates.last())
        .cloned()
    else {
        let name = super::alerts::person_name(&mut conn, &learner).await?;
        return say_text(
            messenger,
            m.place(),
            tr!(
                t,
                "staff-track-no-certificate",
                name = name,
                id = learner.id
            ),
        )
        .await;
    };
    drop(conn);
    record_tracking(
        app,
        messenger,
        m.user_id,
        m.place(),
        &learner,
        &certificate,
        &number,
    )
    .await
}

/// Saves the tracking number of the letter with the document and tells the learner, with a
/// link to follow it.
async fn record_tracking(
    app: &App,
    messenger: &dyn Messenger,
    user_id: i64,
    place: Place,
    learner: &LearnerRecord,
    certificate: &store::staff::CertificateRow,
    number: &TrackingNumber,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    store::staff::set_tracking(&mut tx, certificate.enrollment_id, number.as_str(), now).await?;
    audit::record(
        &mut tx,
        now,
        &actor(user_id),
        "tracking-number-set",
        Some(learner.id),
        &format!(
            "enrollment {}: {}",
            certificate.enrollment_id,
            number.as_str()
        ),
    )
    .await?;
    let notice = Reply::text(tr!(
        t,
        "track-notice",
        number = number.as_str(),
        registration = &certificate.registration_number
    ))
    .button(Button::url(
        tr!(t, "btn-track-letter"),
        number.tracking_url(),
    ));
    let key = format!("track:{}:{}", certificate.enrollment_id, number.as_str());
    super::outbox::notify(app, &mut tx, learner, &key, &notice, now).await?;
    tx.commit().await?;
    say_text(
        messenger,
        place,
        tr!(
            t,
            "staff-track-done",
            number = number.as_str(),
            name = &certificate.full_name,
            registration = &certificate.registration_number
        ),
    )
    .await
}

/// «📮 Ввести трек-номер» under a printed document: the number is asked as a reply.
async fn ask_tracking(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    enrollment: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let Some(c) = store::staff::certificate(&mut conn, enrollment)
        .await?
        .filter(|c| c.printed_at.is_some())
    else {
        return toast(messenger, press, tr!(t, "staff-already-done")).await;
    };
    messenger.answer_button(press.callback_id, None).await.ok();
    let request = store::staff::create_request(
        &mut conn,
        TRACKING,
        press.user_id,
        press.chat_id,
        "awaiting-text",
        &serde_json::json!({ "enrollment": enrollment }).to_string(),
        app.now().timestamp(),
    )
    .await?;
    let ask = tr!(
        t,
        "staff-track-ask",
        registration = &c.registration_number,
        name = &c.full_name,
        enrollment = enrollment
    );
    let prompt = messenger
        .ask_reply_in(press.chat_id, press.thread_id, &plain_text(&ask))
        .await?;
    store::staff::set_prompt(&mut conn, request, i64::from(prompt)).await?;
    Ok(())
}

/// The staff member's reply with a tracking number: validated (a wrong one is explained and
/// the question stays open), saved once, the learner told.
async fn tracking_reply(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    request: &store::staff::RequestRow,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let number = match TrackingNumber::parse(m.text) {
        Ok(n) => n,
        Err(e) => return say_text(messenger, m.place(), crate::journey::explain(t, &e)).await,
    };
    let enrollment = serde_json::from_str::<serde_json::Value>(&request.payload)
        .ok()
        .and_then(|v| v["enrollment"].as_i64())
        .unwrap_or_default();
    let mut conn = app.store.pool().acquire().await?;
    let certificate = store::staff::certificate(&mut conn, enrollment).await?;
    let learner = match enrollments::by_id(&mut conn, enrollment).await? {
        Some(e) => learners::by_id(&mut conn, e.learner_id).await?,
        None => None,
    };
    let now = app.now().timestamp();
    let taken =
        store::staff::advance_request(&mut conn, request.id, "awaiting-text", "done", None, now)
            .await?;
    drop(conn);
    let (true, Some(certificate), Some(learner)) = (taken, certificate, learner) else {
        return say_text(messenger, m.place(), tr!(t, "staff-already-done")).await;
    };
    record_tracking(
        app,
        messenger,
        m.user_id,
        m.place(),
        &learner,
        &certificate,
        &number,
    )
    .await
}

// ---- /paid ----

#[derive(serde::Serialize, serde::Deserialize)]
struct PaidRequest {
    order: i64,
    reason: String,
}

async fn paid(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    args: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let (order, reason) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let order_id = order.trim_start_matches(['№', '#']).parse::<i64>().ok();
    let reason = reason.trim();
    let (Some(order_id), false) = (order_id, reason.is_empty()) else {
        return say_text(messenger, m.place(), tr!(t, "staff-paid-usage")).await;
    };
    let mut conn = app.store.pool().acquire().await?;
    let Some(order) = enrollments::order_by_id(&mut conn, order_id).await? else {
        return say_text(
            messenger,
            m.place(),
            tr!(t, "staff-paid-no-order", order = order_id),
        )
        .await;
    };
    if order.status == "paid" {
        return say_text(
            messenger,
            m.place(),
            tr!(t, "staff-paid-already", order = order_id),
        )
        .await;
    }
    let Some(e) = enrollments::by_id(&mut conn, order.enrollment_id).await? else {
        return say_text(
            messenger,
            m.place(),
            tr!(t, "staff-paid-no-order", order = order_id),
        )
        .await;
    };
    let learner = learners::by_id(&mut conn, e.learner_id).await?;
    let name = match &learner {
        Some(l) => super::alerts::person_name(&mut conn, l).await?,
        None => String::new(),
    };
    let catalog = app.catalog_in(&mut conn).await?;
    let course = catalog
        .group(&e.group_id)
        .map(|(c, g)| tr!(t, "alert-line-course", course = &c.title, group = &g.title))
        .unwrap_or_else(|| escape(&e.group_id));
    let now = app.now().timestamp();
    let payload = serde_json::to_string(&PaidRequest {
        order: order_id,
        reason: reason.to_owned(),
    })?;
    let request = store::staff::create_request(
        &mut conn, PAID, m.user_id, m.chat_id, "pending", &payload, now,
    )
    .await?;
    let signer = signer(app, &mut conn).await?;
    drop(conn);
    let reply = Reply::text(tr!(
        t,
        "staff-paid-confirm",
        order = order_id,
        name = name,
        id = e.learner_id,
        course = Html(course),
        amount = Money(order.amount_kopecks).display_rub(),
        reason = reason
    ))
    .row(vec![
        Button::action(
            tr!(t, "btn-staff-confirm-paid"),
            signer.sign(m.chat_id, &StaffAction::Confirm(request)),
        ),
        Button::action(
            tr!(t, "btn-staff-cancel"),
            signer.sign(m.chat_id, &StaffAction::Cancel(request)),
        ),
    ]);
    say(messenger, m.place(), &reply).await.map(|_| ())
}

async fn confirm_paid(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    request: &store::staff::RequestRow,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let p: PaidRequest = store::from_json("paid request", &request.payload)?;
    let now = app.now().timestamp();
    let mut conn = app.store.pool().acquire().await?;
    if !store::staff::advance_request(&mut conn, request.id, "pending", "done", None, now).await? {
        return toast(messenger, press, tr!(t, "staff-already-done")).await;
    }
    let order = enrollments::order_by_id(&mut conn, p.order).await?;
    drop(conn);
    let Some(order) = order.filter(|o| o.status != "paid") else {
        toast(
            messenger,
            press,
            tr!(t, "staff-paid-already", order = p.order),
        )
        .await?;
        return finish(
            messenger,
            press,
            tr!(t, "staff-paid-already", order = p.order),
        )
        .await;
    };
    messenger.answer_button(press.callback_id, None).await.ok();
    decisions::mark_paid_by_hand(app, messenger, order.enrollment_id).await?;
    let mut tx = app.store.begin().await?;
    let signed =
        store::staff::sign_manual_payment(&mut tx, order.id, &p.reason, press.user_id).await?;
    if signed {
        let learner = enrollments::by_id(&mut tx, order.enrollment_id)
            .await?
            .map(|e| e.learner_id);
        audit::record(
            &mut tx,
            now,
            &actor(press.user_id),
            "order-paid-by-hand",
            learner,
            &format!("order {}: {}", order.id, p.reason),
        )
        .await?;
    }
    tx.commit().await?;
    let text = if signed {
        tr!(
            t,
            "staff-paid-done",
            order = order.id,
            staff = press.user_name,
            reason = &p.reason
        )
    } else {
        tr!(t, "staff-paid-already", order = order.id)
    };
    finish(messenger, press, text).await
}

// ---- /broadcast ----

#[derive(serde::Serialize, serde::Deserialize)]
struct BroadcastRequest {
    group: String,
    #[serde(default)]
    text: String,
}

async fn broadcast(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    args: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let (group_id, text) = args
        .split_once(char::is_whitespace)
        .map(|(g, rest)| (g, rest.trim()))
        .unwrap_or((args, ""));
    if group_id.is_empty() {
        return say_text(messenger, m.place(), tr!(t, "staff-broadcast-usage")).await;
    }
    let catalog = app.catalog().await?;
    if catalog.group(group_id).is_none() {
        return say_text(
            messenger,
            m.place(),
            tr!(t, "staff-group-unknown", group = group_id),
        )
        .await;
    }
    let now = app.now().timestamp();
    let request = BroadcastRequest {
        group: group_id.to_owned(),
        text: text.to_owned(),
    };
    let status = if text.is_empty() {
        "awaiting-text"
    } else {
        "pending"
    };
    let mut conn = app.store.pool().acquire().await?;
    let id = store::staff::create_request(
        &mut conn,
        BROADCAST,
        m.user_id,
        m.chat_id,
        status,
        &serde_json::to_string(&request)?,
        now,
    )
    .await?;
    if text.is_empty() {
        let prompt = messenger
            .ask_reply_in(
                m.chat_id,
                m.thread_id,
                &plain_text(&tr!(t, "staff-broadcast-ask", group = group_id)),
            )
            .await?;
        store::staff::set_prompt(&mut conn, id, i64::from(prompt)).await?;
        return Ok(());
    }
    drop(conn);
    preview_broadcast(app, messenger, m.place(), id, &request).await
}

async fn recipients(conn: &mut AnyConnection, group_id: &str) -> store::Result<Vec<LearnerRecord>> {
    let mut out: Vec<LearnerRecord> = Vec::new();
    for e in enrollments::in_group(conn, group_id).await? {
        if out.iter().any(|l| l.id == e.learner_id) {
            continue;
        }
        if let Some(l) = learners::by_id(conn, e.learner_id).await? {
            out.push(l);
        }
    }
    Ok(out)
}

async fn preview_broadcast(
    app: &App,
    messenger: &dyn Messenger,
    place: Place,
    id: i64,
    request: &BroadcastRequest,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let count = recipients(&mut conn, &request.group).await?.len();
    let signer = signer(app, &mut conn).await?;
    drop(conn);
    let reply = Reply::text(card::fit(
        t,
        tr!(
            t,
            "staff-broadcast-preview",
            group = &request.group,
            count = count,
            text = &request.text
        ),
    ))
    .row(vec![
        Button::action(
            tr!(t, "btn-staff-send-broadcast", count = count),
            signer.sign(place.chat_id, &StaffAction::Confirm(id)),
        ),
        Button::action(
            tr!(t, "btn-staff-cancel"),
            signer.sign(place.chat_id, &StaffAction::Cancel(id)),
        ),
    ]);
    say(messenger, place, &reply).await.map(|_| ())
}

async fn confirm_broadcast(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    request: &store::staff::RequestRow,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let b: BroadcastRequest = store::from_json("broadcast request", &request.payload)?;
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    if !store::staff::advance_request(&mut tx, request.id, "pending", "sent", None, now).await? {
        tx.rollback().await?;
        return toast(messenger, press, tr!(t, "staff-already-done")).await;
    }
    let notice = Reply::text(tr!(
        t,
        "broadcast-message",
        text = &b.text,
        school = &app.school.name
    ));
    let mut sent = 0;
    for learner in recipients(&mut tx, &b.group).await? {
        let key = format!("broadcast:{}:{}", request.id, learner.id);
        if super::outbox::notify(app, &mut tx, &learner, &key, &notice, now).await? {
            sent += 1;
        }
    }
    audit::record(
        &mut tx,
        now,
        &actor(press.user_id),
        "broadcast-sent",
        None,
        &format!("group {}: {sent} learners: {}", b.group, b.text),
    )
    .await?;
    tx.commit().await?;
    messenger.answer_button(press.callback_id, None).await.ok();
    finish(
        messenger,
        press,
        tr!(t, "staff-broadcast-sent", group = &b.group, count = sent),
    )
    .await
}

/// The staff member's reply to a prompt of theirs: a return reason or a broadcast text.
async fn answer_prompt(
    app: &App,
    messenger: &dyn Messenger,
    m: &StaffMessage<'_>,
    request: &store::staff::RequestRow,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let permission = match request.kind.as_str() {
        BROADCAST => Permission::Broadcast,
        TRACKING => Permission::Certificates,
        _ => Permission::Review,
    };
    // A return reason claims its update in the transaction of the return; the rest first.
    let in_transaction = request.kind == decisions::RETURN_REASON
        && authorize(app, m.user_id, permission).is_ok()
        && request.author == m.user_id;
    if !in_transaction && !claim_first(app, m.update_id).await? {
        return Ok(());
    }
    if let Err(denied) = authorize(app, m.user_id, permission) {
        let text = refuse(
            app,
            m.user_id,
            denied,
            &format!("reply to {}", request.kind),
        )
        .await?;
        return say_text(messenger, m.place(), text).await;
    }
    if request.author != m.user_id {
        return say_text(messenger, m.place(), tr!(t, "staff-not-your-request")).await;
    }
    match request.kind.as_str() {
        TRACKING => tracking_reply(app, messenger, m, request).await,
        decisions::RETURN_REASON => {
            let place = m.place();
            decisions::return_reason(
                app,
                messenger,
                m.user_id,
                place,
                request,
                m.text,
                m.update_id,
            )
            .await
        }
        BROADCAST => {
            let mut b: BroadcastRequest = store::from_json("broadcast request", &request.payload)?;
            b.text = m.text.trim().to_owned();
            if b.text.is_empty() {
                return say_text(messenger, m.place(), tr!(t, "staff-broadcast-empty")).await;
            }
            let mut conn = app.store.pool().acquire().await?;
            let payload = serde_json::to_string(&b)?;
            let now = app.now().timestamp();
            if !store::staff::advance_request(
                &mut conn,
                request.id,
                "awaiting-text",
                "pending",
                Some(&payload),
                now,
            )
            .await?
            {
                return say_text(messenger, m.place(), tr!(t, "staff-already-done")).await;
            }
            drop(conn);
            preview_broadcast(app, messenger, m.place(), request.id, &b).await
        }
        _ => Ok(()),
    }
}

// ---- buttons ----

async fn toast(messenger: &dyn Messenger, press: &Press<'_>, text: String) -> anyhow::Result<()> {
    messenger
        .answer_button(press.callback_id, Some(&text))
        .await
        .ok();
    Ok(())
}

/// Replaces a request's message (its buttons go) with the outcome.
async fn finish(messenger: &dyn Messenger, press: &Press<'_>, text: String) -> anyhow::Result<()> {
    let reply = Reply::text(text);
    if messenger
        .edit(press.chat_id, press.message_id, &reply)
        .await
        .is_err()
    {
        messenger
            .send_in(press.chat_id, press.thread_id, &reply)
            .await?;
    }
    Ok(())
}

/// A signed staff button: the signature must hold for this chat, the presser must have the
/// permission, and the state must still be what the button expects.
pub async fn on_button(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    token: &str,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let signer = {
        let mut conn = app.store.pool().acquire().await?;
        signer(app, &mut conn).await?
    };
    let action = signer.verify(press.chat_id, token);
    // Accepting claims its update in its own transaction; every other press claims it
    // first (a repeat then neither changes nor posts anything).
    let accepting = action.as_ref().is_some_and(|a| {
        matches!(a, StaffAction::Accept(_)) && authorize(app, press.user_id, a.permission()).is_ok()
    });
    if !accepting && !claim_first(app, press.update_id).await? {
        messenger.answer_button(press.callback_id, None).await.ok();
        return Ok(());
    }
    if app.staff.role(press.user_id).is_none() {
        refuse(app, press.user_id, Denied::NotStaff, "button").await?;
        return toast(messenger, press, tr!(t, "staff-only")).await;
    }
    let Some(action) = action else {
        tracing::warn!(user = press.user_id, "staff button with a bad signature");
        let mut conn = app.store.pool().acquire().await?;
        audit::record(
            &mut conn,
            app.now().timestamp(),
            &actor(press.user_id),
            "staff-button-forged",
            None,
            &format!("chat {}", press.chat_id),
        )
        .await?;
        return toast(messenger, press, tr!(t, "button-outdated")).await;
    };
    let role = match authorize(app, press.user_id, action.permission()) {
        Ok(role) => role,
        Err(denied) => {
            let text = refuse(app, press.user_id, denied, &format!("{action:?}")).await?;
            return toast(messenger, press, text).await;
        }
    };
    match action {
        StaffAction::Accept(e) => decisions::accept(app, messenger, press, e).await,
        StaffAction::Return(e) => {
            decisions::choose_document(app, messenger, &signer, press, e).await
        }
        StaffAction::ReturnDoc(d) => decisions::ask_reason(app, messenger, press, d).await,
        StaffAction::Card(l) => {
            messenger.answer_button(press.callback_id, None).await.ok();
            show_card(
                app,
                messenger,
                &signer,
                press.user_id,
                role,
                press.place(),
                l,
            )
            .await
        }
        StaffAction::Docs(l) => send_documents(app, messenger, press, l).await,
        StaffAction::Audit(l) => {
            let mut conn = app.store.pool().acquire().await?;
            let Some(learner) = learners::by_id(&mut conn, l).await? else {
                return toast(messenger, press, tr!(t, "staff-no-learner")).await;
            };
            messenger.answer_button(press.callback_id, None).await.ok();
            show_audit(
                app,
                messenger,
                &mut conn,
                press.user_id,
                press.place(),
                &learner,
            )
            .await
        }
        StaffAction::Printed(e) => printed(app, messenger, press, e).await,
        StaffAction::Track(e) => ask_tracking(app, messenger, press, e).await,
        StaffAction::Csv(group) => {
            messenger.answer_button(press.callback_id, None).await.ok();
            send_csv(app, messenger, press.user_id, press.place(), &group).await
        }
        StaffAction::Confirm(id) | StaffAction::Cancel(id) => {
            let confirm = matches!(action, StaffAction::Confirm(_));
            decide_request(app, messenger, press, id, confirm).await
        }
        StaffAction::ReleaseLetter(id) | StaffAction::RejectLetter(id) => {
            let release = matches!(action, StaffAction::ReleaseLetter(_));
            let text = crate::app::mail_in::decide_held(app, messenger, id, release, press.user_id)
                .await?;
            toast(messenger, press, text).await
        }
    }
}

async fn decide_request(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    id: i64,
    confirm: bool,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let request = {
        let mut conn = app.store.pool().acquire().await?;
        store::staff::request(&mut conn, id).await?
    };
    let Some(request) = request.filter(|r| r.chat_id == press.chat_id) else {
        return toast(messenger, press, tr!(t, "button-outdated")).await;
    };
    let permission = match request.kind.as_str() {
        PAID => Permission::MarkPaid,
        BROADCAST => Permission::Broadcast,
        _ => return toast(messenger, press, tr!(t, "button-outdated")).await,
    };
    if let Err(denied) = authorize(app, press.user_id, permission) {
        let text = refuse(app, press.user_id, denied, &request.kind).await?;
        return toast(messenger, press, text).await;
    }
    if request.author != press.user_id {
        return toast(messenger, press, tr!(t, "staff-not-your-request")).await;
    }
    if !confirm {
        let mut conn = app.store.pool().acquire().await?;
        let now = app.now().timestamp();
        let cancelled =
            store::staff::advance_request(&mut conn, id, "pending", "cancelled", None, now).await?;
        drop(conn);
        if !cancelled {
            return toast(messenger, press, tr!(t, "staff-already-done")).await;
        }
        messenger.answer_button(press.callback_id, None).await.ok();
        return finish(messenger, press, tr!(t, "staff-request-cancelled")).await;
    }
    match request.kind.as_str() {
        PAID => confirm_paid(app, messenger, press, &request).await,
        _ => confirm_broadcast(app, messenger, press, &request).await,
    }
}

/// Sends the learner's current documents into the chat; every file sent is audited.
async fn send_documents(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    learner_id: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let mut conn = app.store.pool().acquire().await?;
    let docs: Vec<_> = enrollments::documents_of_learner(&mut conn, learner_id)
        .await?
        .into_iter()
        .filter(|d| d.status != "replaced")
        .collect();
    if docs.is_empty() {
        return toast(messenger, press, tr!(t, "staff-no-documents")).await;
    }
    messenger.answer_button(press.callback_id, None).await.ok();
    for d in docs {
        let bytes = match app.files.get(&d.storage_key).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(document = d.id, error = %e, "stored document unreadable");
                say_text(
                    messenger,
                    press.place(),
                    tr!(t, "staff-document-unreadable", file = &d.file_name),
                )
                .await?;
                continue;
            }
        };
        audit::record(
            &mut conn,
            app.now().timestamp(),
            &actor(press.user_id),
            "document-opened",
            Some(learner_id),
            &format!(
                "document {} «{}», chat {}",
                d.id, d.file_name, press.chat_id
            ),
        )
        .await?;
        let caption = plain_text(&tr!(
            t,
            "alert-document-caption",
            id = d.id,
            kind = super::alerts::doc_kind_name(app, &d.kind),
            learner = learner_id
        ));
        messenger
            .send_file_in(
                press.chat_id,
                press.thread_id,
                &d.file_name,
                bytes,
                &caption,
            )
            .await?;
    }
    Ok(())
}

async fn printed(
    app: &App,
    messenger: &dyn Messenger,
    press: &Press<'_>,
    enrollment: i64,
) -> anyhow::Result<()> {
    let t = &app.texts;
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    if !store::staff::mark_printed(&mut tx, enrollment, press.user_id, now).await? {
        tx.rollback().await?;
        return toast(messenger, press, tr!(t, "staff-already-done")).await;
    }
    let learner = enrollments::by_id(&mut tx, enrollment)
        .await?
        .map(|e| e.learner_id);
    audit::record(
        &mut tx,
        now,
        &actor(press.user_id),
        "certificate-printed",
        learner,
        &format!("enrollment {enrollment}"),
    )
    .await?;
    tx.commit().await?;
    toast(messenger, press, tr!(t, "staff-printed-toast")).await?;
    let signer = {
        let mut conn = app.store.pool().acquire().await?;
        signer(app, &mut conn).await?
    };
    let reply = Reply::text(tr!(
        t,
        "staff-printed",
        enrollment = enrollment,
        staff = press.user_name,
        id = learner.unwrap_or_default()
    ))
    .button(Button::action(
        tr!(t, "btn-staff-track"),
        signer.sign(press.chat_id, &StaffAction::Track(enrollment)),
    ));
    say(messenger, press.place(), &reply).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, name: &str, email: &str, fields: &str) -> store::staff::SearchRow {
        store::staff::SearchRow {
            id,
            display_name: name.into(),
            tg_username: Some("masha".into()),
            email: Some(email.into()),
            fields: Some(fields.into()),
        }
    }

    #[test]
    fn search_finds_by_name_email_phone_username_and_number() {
        let r = row(
            12,
            "Маша",
            "masha@example.org",
            r#"{"surname":"Иванова","name":"Мария","patronymic":"Сергеевна","phone":"+79123456789"}"#,
        );
        for q in [
            "иванова",
            "ИВАНОВА мария",
            "Мария Иванова",
            "masha@example",
            "MASHA@EXAMPLE.ORG",
            "8 912 345-67-89",
            "+7 (912) 345 67 89",
            "@masha",
            "12",
            "№12",
        ] {
            assert!(matches(&r, q), "{q}");
        }
        for q in [
            "петрова",
            "other@example.org",
            "8 912 000 00 00",
            "@misha",
            "13",
            "",
        ] {
            assert!(!matches(&r, q), "{q}");
        }
    }

    #[test]
    fn commands_are_read_with_or_without_the_bot_name() {
        assert_eq!(
            split_command("/find@uchbot_bot Иванова"),
            Some(("find".into(), "Иванова"))
        );
        assert_eq!(split_command("/STATS"), Some(("stats".into(), "")));
        assert!(is_staff_command("/paid 5 перевод"));
        assert!(!is_staff_command("/start"));
        assert!(!is_staff_command("найти"));
    }
}
