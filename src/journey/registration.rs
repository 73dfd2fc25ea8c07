//! Registration: greeting, consent to personal-data processing (152-ФЗ) before anything
//! personal is asked, and an email address confirmed by a code.
use sha2::{Digest, Sha256};

use super::action::Action;
use super::reply::{Button, Reply};
use super::view::Consent;
use super::{browse, status, Command, Ctx, Dialogue, Intent, Outcome, StaffAlert};
use crate::domain::personal::Email;
use crate::tr;

pub const CODE_ATTEMPTS: i64 = 5;
pub const CODE_TTL_SECONDS: i64 = 15 * 60;
pub const RESEND_PAUSE_SECONDS: i64 = 60;
pub const MAX_SENDS: i64 = 5;

/// How a code is kept: never in clear text, bound to the learner and the address.
pub fn code_hash(learner_id: i64, email: &str, code: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{learner_id}:{email}:{code}").as_bytes(),
    ))
}

/// The `/start` payload of the link that joins a Telegram account to a learner known by
/// email: `link_<mail token>`.
pub const LINK_PREFIX: &str = "link_";

/// The deep link that opens the bot as this learner (for letters to learners without
/// Telegram); `None` when the bot's username or the learner's token is unknown.
pub fn telegram_link(ctx: &Ctx) -> Option<String> {
    let bot = ctx.school.bot_username.trim_start_matches('@');
    let token = ctx.learner.mail_token.as_deref()?;
    (!bot.is_empty()).then(|| format!("https://t.me/{bot}?start={LINK_PREFIX}{token}"))
}

pub fn start(ctx: &Ctx, dialogue: Dialogue, payload: Option<&str>) -> Outcome {
    let t = ctx.texts;
    let learner = ctx.learner;
    let registered = learner.consented(&ctx.school.consent_version) && learner.email.is_some();
    let greeting = if registered {
        tr!(t, "welcome-back", name = &learner.display_name)
    } else {
        tr!(t, "welcome", school = &ctx.school.name)
    };
    let mut out = Outcome::stay(dialogue).say(Reply::text(greeting).with_menu());
    match payload {
        // `mail`: the link in the answer to an unknown sender (register, confirm the address).
        None | Some("") | Some("mail") => {}
        // The link from a letter to a learner known by email: the runtime has linked this
        // Telegram account to them before the step when the token was theirs.
        Some(p) if p.starts_with(LINK_PREFIX) => {
            let token = &p[LINK_PREFIX.len()..];
            if ctx.learner.mail_token.as_deref() == Some(token) {
                out = out.say(Reply::text(tr!(t, "telegram-linked")));
            } else {
                out = out.say(Reply::text(tr!(
                    t,
                    "telegram-link-failed",
                    school_email = &ctx.school.email,
                    school_phone = &ctx.school.phone
                )));
            }
        }
        Some(p) => {
            return match p
                .strip_prefix("course_")
                .and_then(|id| ctx.catalog.course(id))
            {
                Some(course) => out.say(browse::course_card(ctx, &course.id)),
                None => out
                    .say(Reply::text(tr!(t, "deep-link-unknown")))
                    .say(browse::sections(ctx)),
            };
        }
    }
    if registered {
        return out.say(status::status(ctx));
    }
    match learner.consent {
        Consent::Given { ref version } if *version == ctx.school.consent_version => {
            out = out.to(Dialogue::AwaitingEmail { then: None });
            out.say(ask_email(ctx))
        }
        Consent::Refused => out.say(
            Reply::text(tr!(t, "consent-refused-reminder"))
                .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog))
                .button(Button::action(
                    tr!(t, "btn-give-consent"),
                    Action::Consent(true),
                )),
        ),
        _ => out
            .to(Dialogue::AwaitingConsent { then: None })
            .say(consent_request(ctx)),
    }
}

pub fn consent_request(ctx: &Ctx) -> Reply {
    let t = ctx.texts;
    Reply::text(tr!(
        t,
        "consent-request",
        school = &ctx.school.name,
        policy = &ctx.school.privacy_policy_url
    ))
    .button(Button::url(
        tr!(t, "btn-privacy-policy"),
        &ctx.school.privacy_policy_url,
    ))
    .row(vec![
        Button::action(tr!(t, "btn-consent-yes"), Action::Consent(true)),
        Button::action(tr!(t, "btn-consent-no"), Action::Consent(false)),
    ])
}

/// Asks for consent and remembers what the learner wanted to do.
pub fn require_consent(ctx: &Ctx, then: Option<Intent>) -> Outcome {
    Outcome::stay(Dialogue::AwaitingConsent { then })
        .say(Reply::text(tr!(ctx.texts, "consent-needed")))
        .say(consent_request(ctx))
}

pub fn consent(ctx: &Ctx, dialogue: Dialogue, granted: bool) -> Outcome {
    let t = ctx.texts;
    let then = match dialogue {
        Dialogue::AwaitingConsent { then } => then,
        _ => None,
    };
    if !granted {
        return Outcome::stay(Dialogue::Idle)
            .run(Command::RecordConsent { granted: false })
            .edit(Reply::text(tr!(t, "consent-refused")))
            .say(
                Reply::text(tr!(t, "consent-refused-reminder"))
                    .with_menu()
                    .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog))
                    .button(Button::action(
                        tr!(t, "btn-give-consent"),
                        Action::Consent(true),
                    )),
            );
    }
    let already = ctx.learner.consented(&ctx.school.consent_version);
    let mut out = Outcome::stay(Dialogue::Idle).edit(Reply::text(tr!(t, "consent-given")));
    if !already {
        out = out.run(Command::RecordConsent { granted: true });
    }
    if ctx.learner.email.is_none() {
        return out.to(Dialogue::AwaitingEmail { then }).say(ask_email(ctx));
    }
    continue_intent(ctx, out, then)
}

pub fn ask_email(ctx: &Ctx) -> Reply {
    Reply::text(tr!(ctx.texts, "email-ask"))
}

pub fn require_email(ctx: &Ctx, then: Option<Intent>) -> Outcome {
    Outcome::stay(Dialogue::AwaitingEmail { then })
        .say(Reply::text(tr!(ctx.texts, "email-needed")))
        .say(ask_email(ctx))
}

/// Consent given, the address not yet confirmed: the step the learner is at.
pub fn email_pending(ctx: &Ctx) -> bool {
    ctx.learner.consented(&ctx.school.consent_version) && ctx.learner.email.is_none()
}

pub fn email_given(ctx: &Ctx, then: Option<Intent>, text: &str) -> Outcome {
    let t = ctx.texts;
    let email = match Email::parse(text) {
        Ok(e) => e,
        Err(e) => {
            return Outcome::stay(Dialogue::AwaitingEmail { then })
                .say(Reply::text(super::explain(t, &e)))
        }
    };
    // One address, one learner: compared and stored in lower case, as mail servers treat it.
    let email = email.as_str().to_lowercase();
    if ctx.learner.email.as_deref() == Some(email.as_str()) {
        return continue_intent(
            ctx,
            Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(t, "email-already-yours"))),
            then,
        );
    }
    send_code(ctx, email, then)
}

fn send_code(ctx: &Ctx, email: String, then: Option<Intent>) -> Outcome {
    let t = ctx.texts;
    if let Some(p) = ctx
        .learner
        .pending_code
        .as_ref()
        .filter(|p| p.email == email)
    {
        let wait = p.sent_at + RESEND_PAUSE_SECONDS - ctx.ts();
        if wait > 0 {
            return Outcome::stay(Dialogue::AwaitingCode { email, then }).say(Reply::text(tr!(
                t,
                "code-resend-wait",
                seconds = wait
            )));
        }
        if p.sends >= MAX_SENDS {
            return Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(
                t,
                "code-too-many-sends",
                school_email = &ctx.school.email
            )));
        }
    }
    Outcome::stay(Dialogue::AwaitingCode {
        email: email.clone(),
        then,
    })
    .run(Command::SendEmailCode { email })
}

pub fn code_sent(ctx: &Ctx, dialogue: Dialogue, email: &str) -> Outcome {
    let t = ctx.texts;
    Outcome::stay(dialogue).say(
        Reply::text(tr!(
            t,
            "code-sent",
            email = email,
            minutes = CODE_TTL_SECONDS / 60
        ))
        .row(vec![
            Button::action(tr!(t, "btn-resend-code"), Action::ResendCode),
            Button::action(tr!(t, "btn-change-email"), Action::ChangeEmail),
        ]),
    )
}

fn code_buttons(ctx: &Ctx, reply: Reply) -> Reply {
    let t = ctx.texts;
    reply.row(vec![
        Button::action(tr!(t, "btn-resend-code"), Action::ResendCode),
        Button::action(tr!(t, "btn-change-email"), Action::ChangeEmail),
    ])
}

pub fn code_given(ctx: &Ctx, email: String, then: Option<Intent>, text: &str) -> Outcome {
    let t = ctx.texts;
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let stay = |reply: Reply| {
        Outcome::stay(Dialogue::AwaitingCode {
            email: email.clone(),
            then: then.clone(),
        })
        .say(code_buttons(ctx, reply))
    };
    if code.contains('@') {
        // The learner typed another address instead of the code.
        return email_given(ctx, then, text);
    }
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return stay(Reply::text(tr!(t, "code-format")));
    }
    let Some(pending) = ctx
        .learner
        .pending_code
        .as_ref()
        .filter(|p| p.email == email)
    else {
        return stay(Reply::text(tr!(t, "code-none")));
    };
    if pending.expires_at <= ctx.ts() {
        return stay(Reply::text(tr!(t, "code-expired")));
    }
    if pending.attempts_left <= 0 {
        return stay(Reply::text(tr!(t, "code-no-attempts")));
    }
    if code_hash(ctx.learner.id, &email, &code) != pending.code_hash {
        let left = pending.attempts_left - 1;
        let reply = if left > 0 {
            Reply::text(tr!(t, "code-wrong", left = left))
        } else {
            Reply::text(tr!(t, "code-no-attempts"))
        };
        return stay(reply).run(Command::SpendCodeAttempt);
    }
    Outcome::stay(Dialogue::AwaitingCode {
        email: email.clone(),
        then,
    })
    .run(Command::ConfirmEmail { email })
}

pub fn resend_code(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    match dialogue {
        Dialogue::AwaitingCode { email, then } => send_code(ctx, email, then),
        other => super::stale(ctx, other),
    }
}

pub fn change_email(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    let then = match dialogue {
        Dialogue::AwaitingCode { then, .. } | Dialogue::AwaitingEmail { then } => then,
        _ => None,
    };
    Outcome::stay(Dialogue::AwaitingEmail { then }).say(ask_email(ctx))
}

pub fn email_confirmed(ctx: &Ctx, dialogue: Dialogue, email: &str) -> Outcome {
    let then = match dialogue {
        Dialogue::AwaitingCode { then, .. } => then,
        _ => None,
    };
    let out = Outcome::stay(Dialogue::Idle)
        .say(Reply::text(tr!(ctx.texts, "email-confirmed", email = email)).with_menu())
        .run(Command::AlertStaff(StaffAlert::NewLearner));
    continue_intent(ctx, out, then)
}

pub fn email_taken(ctx: &Ctx, email: &str) -> Outcome {
    Outcome::stay(Dialogue::AwaitingEmail { then: None }).say(Reply::text(tr!(
        ctx.texts,
        "email-taken",
        email = email,
        school_email = &ctx.school.email
    )))
}

/// Resumes what the learner set out to do, or shows where they can go.
fn continue_intent(ctx: &Ctx, out: Outcome, then: Option<Intent>) -> Outcome {
    match then {
        Some(Intent::Enroll { group_id }) => out.then(browse::offer(ctx, &group_id)),
        None => out.say(
            Reply::text(tr!(ctx.texts, "registered-next")).button(Button::action(
                tr!(ctx.texts, "btn-catalog"),
                Action::Catalog,
            )),
        ),
    }
}
