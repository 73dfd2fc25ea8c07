//! Payment of the order: a YooKassa link, bank details, or the shell's demo payment; the
//! confirmation (trusted only once read back from the provider) moves the learner on.
use super::action::Action;
use super::reply::{Button, Reply};
use super::view::{EnrollmentView, PaymentStatus};
use super::{stale, Command, Ctx, Dialogue, Event, Outcome, PaymentMode, StaffAlert};
use crate::domain::catalog::Money;
use crate::tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayButton {
    NewLink,
    Check,
    Demo,
}

fn course_title(ctx: &Ctx, e: &EnrollmentView) -> String {
    ctx.catalog
        .course(&e.course_id)
        .map(|c| c.title.clone())
        .unwrap_or_default()
}

pub fn button(ctx: &Ctx, dialogue: Dialogue, kind: PayButton, enrollment: i64) -> Outcome {
    let t = ctx.texts;
    let Some(e) = ctx.learner.enrollment(enrollment) else {
        return stale(ctx, dialogue);
    };
    if e.paid() {
        return Outcome::stay(dialogue)
            .toast(tr!(t, "payment-already-paid"))
            .say(form_invitation(ctx, e));
    }
    match kind {
        PayButton::NewLink => {
            let fresh = matches!(&e.payment, Some(p) if p.status == PaymentStatus::Canceled);
            Outcome::stay(dialogue).run(Command::RequestPayment { enrollment, fresh })
        }
        PayButton::Check => Outcome::stay(dialogue)
            .toast(tr!(t, "payment-checking"))
            .run(Command::CheckPayment { enrollment }),
        PayButton::Demo if ctx.school.payment_mode == PaymentMode::Demo => {
            paid(ctx, dialogue, e, "demo")
        }
        PayButton::Demo => stale(ctx, dialogue),
    }
}

fn form_invitation(ctx: &Ctx, e: &EnrollmentView) -> Reply {
    let t = ctx.texts;
    Reply::text(tr!(t, "payment-next-form", title = course_title(ctx, e)))
        .button(Button::action(tr!(t, "btn-fill-form"), Action::Form(e.id)))
}

fn paid(ctx: &Ctx, dialogue: Dialogue, e: &EnrollmentView, via: &'static str) -> Outcome {
    let t = ctx.texts;
    Outcome::stay(dialogue)
        .run(Command::MarkPaid {
            enrollment: e.id,
            via,
        })
        .run(Command::AlertStaff(StaffAlert::Paid { enrollment: e.id }))
        .say(Reply::text(tr!(
            t,
            "payment-received",
            amount = Money(e.amount_kopecks).display_rub(),
            title = course_title(ctx, e)
        )))
        .say(form_invitation(ctx, e))
}

pub fn on_event(ctx: &Ctx, dialogue: Dialogue, event: Event) -> Outcome {
    let t = ctx.texts;
    let enrollment = match &event {
        Event::PaymentLink { enrollment, .. }
        | Event::PaymentByTransfer { enrollment }
        | Event::PaymentDemo { enrollment }
        | Event::PaymentUnavailable { enrollment }
        | Event::PaymentStillPending { enrollment }
        | Event::PaymentCheckUnavailable { enrollment }
        | Event::PaymentConfirmed { enrollment, .. }
        | Event::PaymentCanceled { enrollment } => *enrollment,
        _ => return Outcome::stay(dialogue),
    };
    let Some(e) = ctx.learner.enrollment(enrollment) else {
        return Outcome::stay(dialogue);
    };
    if e.paid() {
        // A late or repeated notice: the learner was told once already.
        return Outcome::stay(dialogue);
    }
    let amount = Money(e.amount_kopecks).display_rub();
    let check = Button::action(tr!(t, "btn-check-payment"), Action::CheckPayment(e.id));
    match event {
        Event::PaymentLink { url, .. } => Outcome::stay(dialogue).say(
            Reply::text(tr!(
                t,
                "payment-link",
                order = e.order_id,
                amount = &amount,
                title = course_title(ctx, e)
            ))
            .button(Button::url(tr!(t, "btn-pay", amount = &amount), url))
            .button(check),
        ),
        Event::PaymentByTransfer { .. } => Outcome::stay(dialogue).say(Reply::text(tr!(
            t,
            "payment-transfer",
            order = e.order_id,
            amount = &amount,
            details = &ctx.school.bank_details,
            school_email = &ctx.school.email
        ))),
        Event::PaymentDemo { .. } => Outcome::stay(dialogue).say(
            Reply::text(tr!(t, "payment-demo", order = e.order_id, amount = &amount)).button(
                Button::action(
                    tr!(t, "btn-pay-demo", amount = &amount),
                    Action::DemoPay(e.id),
                ),
            ),
        ),
        Event::PaymentUnavailable { .. } => {
            Outcome::stay(dialogue).say(Reply::text(tr!(t, "payment-unavailable")).button(
                Button::action(tr!(t, "btn-payment-retry"), Action::Pay(e.id)),
            ))
        }
        // Not "try again later" with a new link: the learner may have paid already.
        Event::PaymentCheckUnavailable { .. } => Outcome::stay(dialogue)
            .say(Reply::text(tr!(t, "payment-check-unavailable")).button(check)),
        Event::PaymentStillPending { .. } => {
            let mut reply = Reply::text(tr!(t, "payment-still-pending"));
            if let Some(url) = e.payment.as_ref().and_then(|p| p.url.clone()) {
                reply = reply.button(Button::url(tr!(t, "btn-pay", amount = &amount), url));
            }
            Outcome::stay(dialogue).say(reply.button(check))
        }
        Event::PaymentConfirmed { via, .. } => paid(ctx, dialogue, e, via),
        Event::PaymentCanceled { .. } => Outcome::stay(dialogue)
            .run(Command::AlertStaff(StaffAlert::PaymentCanceled {
                enrollment,
            }))
            .say(
                Reply::text(tr!(t, "payment-canceled", title = course_title(ctx, e))).button(
                    Button::action(tr!(t, "btn-payment-new-link"), Action::Pay(e.id)),
                ),
            ),
        _ => Outcome::stay(dialogue),
    }
}
