//! The learner's rights under 152-ФЗ: see everything stored about them (`/mydata`), and
//! withdraw consent with their personal data destroyed (`/forget`, confirmed by a button).
use super::action::Action;
use super::reply::{Button, Reply};
use super::{Command, Ctx, Dialogue, Outcome};
use crate::tr;

/// Years contract and payment records are kept (402-ФЗ «О бухгалтерском учёте», ст. 29).
pub const CONTRACT_RETENTION_YEARS: i64 = 5;

pub fn my_data(dialogue: Dialogue) -> Outcome {
    Outcome::stay(dialogue).run(Command::ExportData)
}

pub fn forget_request(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    let t = ctx.texts;
    Outcome::stay(dialogue).say(
        Reply::text(tr!(t, "forget-warning", years = CONTRACT_RETENTION_YEARS))
            .button(Button::action(
                tr!(t, "btn-forget-confirm"),
                Action::ForgetConfirm,
            ))
            .button(Button::action(tr!(t, "btn-forget-cancel"), Action::Status)),
    )
}

pub fn forget_confirmed(ctx: &Ctx) -> Outcome {
    Outcome::stay(Dialogue::Idle)
        .edit(Reply::text(tr!(ctx.texts, "forget-in-progress")))
        .run(Command::Forget)
}

pub fn forgotten(ctx: &Ctx, documents: usize) -> Outcome {
    Outcome::stay(Dialogue::Idle).say(Reply::text(tr!(
        ctx.texts,
        "forget-done",
        documents = documents,
        years = CONTRACT_RETENTION_YEARS
    )))
}
