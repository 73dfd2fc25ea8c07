//! «Заявление на зачисление»: one question at a time, each answer validated, a summary with
//! «Всё верно» / «Исправить».
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::documents;
use super::explain;
use super::reply::{Button, Reply};
use super::view::EnrollmentView;
use super::{stale, Command, Ctx, Dialogue, Outcome};
use crate::domain::personal::ValidationError;
use crate::domain::personal::{
    BirthDate, EducationLevel, Email, FullName, NamePart, Phone, PostalAddress, Snils,
};
use crate::tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Surname,
    Name,
    Patronymic,
    BirthDate,
    Snils,
    Phone,
    Email,
    Education,
    DiplomaName,
    Address,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Self::Surname,
        Self::Name,
        Self::Patronymic,
        Self::BirthDate,
        Self::Snils,
        Self::Phone,
        Self::Email,
        Self::Education,
        Self::DiplomaName,
        Self::Address,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Surname => "surname",
            Self::Name => "name",
            Self::Patronymic => "patronymic",
            Self::BirthDate => "birth_date",
            Self::Snils => "snils",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Education => "education",
            Self::DiplomaName => "diploma_name",
            Self::Address => "address",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    fn position(self) -> usize {
        Self::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// The field's label in the summary.
pub fn label(t: &crate::texts::Texts, field: Field) -> String {
    match field {
        Field::Surname => tr!(t, "field-surname"),
        Field::Name => tr!(t, "field-name"),
        Field::Patronymic => tr!(t, "field-patronymic"),
        Field::BirthDate => tr!(t, "field-birth-date"),
        Field::Snils => tr!(t, "field-snils"),
        Field::Phone => tr!(t, "field-phone"),
        Field::Email => tr!(t, "field-email"),
        Field::Education => tr!(t, "field-education"),
        Field::DiplomaName => tr!(t, "field-diploma-name"),
        Field::Address => tr!(t, "field-address"),
    }
}

fn question(ctx: &Ctx, field: Field) -> String {
    let t = ctx.texts;
    match field {
        Field::Surname => tr!(t, "form-ask-surname"),
        Field::Name => tr!(t, "form-ask-name"),
        Field::Patronymic => tr!(t, "form-ask-patronymic"),
        Field::BirthDate => tr!(t, "form-ask-birth-date"),
        Field::Snils => tr!(t, "form-ask-snils"),
        Field::Phone => tr!(t, "form-ask-phone"),
        Field::Email => tr!(t, "form-ask-email"),
        Field::Education => tr!(t, "form-ask-education"),
        Field::DiplomaName => tr!(t, "form-ask-diploma-name"),
        Field::Address => tr!(t, "form-ask-address"),
    }
}

pub fn education_name(ctx: &Ctx, level: EducationLevel) -> String {
    ctx.texts.get(level.message_id(), None)
}

/// The value as the learner sees it in the summary.
fn shown(ctx: &Ctx, field: Field, value: &str) -> String {
    match field {
        Field::Patronymic if value.is_empty() => tr!(ctx.texts, "field-none"),
        Field::DiplomaName if value.is_empty() => tr!(ctx.texts, "field-diploma-same"),
        Field::Education => EducationLevel::parse(value)
            .ok()
            .map(|l| education_name(ctx, l))
            .unwrap_or_else(|| value.to_owned()),
        _ => value.to_owned(),
    }
}

/// Validates and normalizes an answer.
pub fn validate(ctx: &Ctx, field: Field, text: &str) -> Result<String, ValidationError> {
    Ok(match field {
        Field::Surname | Field::Name => NamePart::parse(text)?.to_string(),
        Field::Patronymic => NamePart::parse_patronymic(text)?
            .map(|p| p.to_string())
            .unwrap_or_default(),
        Field::BirthDate => BirthDate::parse(text, ctx.today())?.to_string(),
        Field::Snils => Snils::parse(text)?.to_string(),
        Field::Phone => Phone::parse(text)?.to_string(),
        Field::Email => Email::parse(text)?.to_string(),
        Field::Education => EducationLevel::parse(text)?.code().to_owned(),
        Field::DiplomaName => FullName::parse_line(text)?.to_string(),
        Field::Address => PostalAddress::parse(text)?.to_string(),
    })
}

/// The learner's current full name from the form.
pub fn full_name(form: &BTreeMap<String, String>) -> String {
    ["surname", "name", "patronymic"]
        .iter()
        .filter_map(|k| form.get(*k).filter(|v| !v.is_empty()))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when the name on the education document differs, so a name-change document is due.
pub fn name_changed(form: &BTreeMap<String, String>) -> bool {
    form.get("diploma_name")
        .is_some_and(|d| !d.is_empty() && !d.eq_ignore_ascii_case(&full_name(form)))
}

fn next_missing(form: &BTreeMap<String, String>, after: Option<Field>) -> Option<Field> {
    let start = after.map_or(0, |f| f.position() + 1);
    Field::ALL[start..]
        .iter()
        .chain(Field::ALL[..start].iter())
        .copied()
        .find(|f| !form.contains_key(f.key()))
}

/// The enrollment when its form may be filled in now, or the reply saying why not.
fn editable<'a>(ctx: &'a Ctx, enrollment: i64) -> Result<&'a EnrollmentView, Option<Reply>> {
    let e = ctx.learner.enrollment(enrollment).ok_or(None)?;
    if !e.paid() {
        return Err(Some(Reply::text(tr!(ctx.texts, "form-not-paid")).button(
            Button::action(tr!(ctx.texts, "btn-payment-new-link"), Action::Pay(e.id)),
        )));
    }
    if matches!(
        e.review,
        Some(super::view::Review::Pending | super::view::Review::Accepted)
    ) {
        return Err(Some(Reply::text(tr!(ctx.texts, "form-locked")).button(
            Button::action(tr!(ctx.texts, "btn-status"), Action::Status),
        )));
    }
    Ok(e)
}

fn refuse(ctx: &Ctx, dialogue: Dialogue, why: Option<Reply>) -> Outcome {
    match why {
        Some(reply) => Outcome::stay(dialogue).say(reply),
        None => stale(ctx, dialogue),
    }
}

pub fn ask(ctx: &Ctx, e: &EnrollmentView, field: Field, review: bool) -> Outcome {
    let t = ctx.texts;
    let step = field.position() + 1;
    let mut reply = Reply::text(tr!(
        t,
        "form-question",
        step = step,
        total = Field::ALL.len(),
        question = crate::texts::Html(question(ctx, field))
    ));
    let keep_value = kept_value(ctx, e, field, review);
    match field {
        Field::Education => {
            for (n, level) in EducationLevel::ALL.iter().enumerate() {
                reply = reply.button(Button::action(
                    education_name(ctx, *level),
                    Action::FormChoice(e.id, field, n as u8),
                ));
            }
        }
        Field::Patronymic => {
            if let Some(v) = keep_value {
                reply = reply.button(Button::action(
                    tr!(t, "btn-keep", value = v),
                    Action::FormKeep(e.id, field),
                ));
            }
            reply = reply.button(Button::action(
                tr!(t, "btn-no-patronymic"),
                Action::FormChoice(e.id, field, 0),
            ));
        }
        Field::DiplomaName => {
            reply = reply.button(Button::action(
                tr!(t, "btn-diploma-same"),
                Action::FormChoice(e.id, field, 0),
            ));
        }
        _ => {
            if let Some(v) = keep_value {
                reply = reply.button(Button::action(
                    tr!(t, "btn-keep", value = v),
                    Action::FormKeep(e.id, field),
                ));
            }
        }
    }
    Outcome::stay(Dialogue::Form {
        enrollment: e.id,
        field,
        review,
    })
    .say(reply)
}

pub fn open(ctx: &Ctx, dialogue: Dialogue, enrollment: i64) -> Outcome {
    let e = match editable(ctx, enrollment) {
        Ok(e) => e,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    if e.form_completed {
        return documents::open(ctx, dialogue, enrollment);
    }
    match next_missing(&e.form, None) {
        Some(field) => {
            let intro = if e.form.is_empty() {
                Some(Reply::text(tr!(ctx.texts, "form-intro")))
            } else {
                None
            };
            let asked = ask(ctx, e, field, false);
            match intro {
                Some(r) => Outcome::stay(Dialogue::Idle).say(r).then(asked),
                None => asked,
            }
        }
        None => Outcome::stay(Dialogue::Idle).say(summary(ctx, e, &e.form)),
    }
}

/// Stores a valid answer and moves on.
fn accept(ctx: &Ctx, e: &EnrollmentView, field: Field, review: bool, value: String) -> Outcome {
    let mut form = e.form.clone();
    form.insert(field.key().to_owned(), value);
    let out = Outcome::stay(Dialogue::Idle).run(Command::SaveForm {
        enrollment: e.id,
        fields: form.clone(),
        completed: false,
    });
    let next = if review {
        None
    } else {
        next_missing(&form, Some(field))
    };
    out.then(match next {
        Some(next) => ask(ctx, e, next, false),
        None => Outcome::stay(Dialogue::Idle).say(summary(ctx, e, &form)),
    })
}

pub fn answer(ctx: &Ctx, enrollment: i64, field: Field, review: bool, text: &str) -> Outcome {
    let here = Dialogue::Form {
        enrollment,
        field,
        review,
    };
    let e = match editable(ctx, enrollment) {
        Ok(e) => e,
        Err(why) => return refuse(ctx, Dialogue::Idle, why),
    };
    match validate(ctx, field, text) {
        Ok(value) => accept(ctx, e, field, review, value),
        Err(err) => Outcome::stay(here).say(Reply::text(explain(ctx.texts, &err))),
    }
}

/// The enrollment and review flag when the form is waiting for exactly this field (a button
/// of an older question does nothing).
fn asked<'a>(
    ctx: &'a Ctx,
    dialogue: &Dialogue,
    enrollment: i64,
    field: Field,
) -> Result<(&'a EnrollmentView, bool), Option<Reply>> {
    match *dialogue {
        Dialogue::Form {
            enrollment: de,
            field: df,
            review,
        } if de == enrollment && df == field => Ok((editable(ctx, enrollment)?, review)),
        _ => Err(None),
    }
}

/// The value a «Оставить» button keeps: the verified email, the previous application's
/// answer, or (when editing) the current one.
fn kept_value(ctx: &Ctx, e: &EnrollmentView, field: Field, review: bool) -> Option<String> {
    match field {
        Field::Email => ctx.learner.email.clone(),
        _ => ctx.learner.previous_form.get(field.key()).cloned(),
    }
    .or_else(|| review.then(|| e.form.get(field.key()).cloned()).flatten())
    .filter(|v| !v.is_empty())
}

pub fn keep(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, field: Field) -> Outcome {
    let (e, review) = match asked(ctx, &dialogue, enrollment, field) {
        Ok(found) => found,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    match kept_value(ctx, e, field, true) {
        Some(v) => accept(ctx, e, field, review, v),
        None => stale(ctx, dialogue),
    }
}

pub fn choice(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, field: Field, n: u8) -> Outcome {
    let (e, review) = match asked(ctx, &dialogue, enrollment, field) {
        Ok(found) => found,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    let value = match (field, n) {
        (Field::Education, n) => match EducationLevel::ALL.get(usize::from(n)) {
            Some(level) => level.code().to_owned(),
            None => return stale(ctx, dialogue),
        },
        (Field::Patronymic | Field::DiplomaName, 0) => String::new(),
        _ => return stale(ctx, dialogue),
    };
    accept(ctx, e, field, review, value)
}

pub fn summary(ctx: &Ctx, e: &EnrollmentView, form: &BTreeMap<String, String>) -> Reply {
    let t = ctx.texts;
    let lines: Vec<String> = Field::ALL
        .iter()
        .map(|f| {
            let value = form
                .get(f.key())
                .map(|v| shown(ctx, *f, v))
                .unwrap_or_default();
            tr!(
                t,
                "form-summary-line",
                label = label(ctx.texts, *f),
                value = value
            )
        })
        .collect();
    Reply::text(tr!(
        t,
        "form-summary",
        lines = crate::texts::Html(lines.join("\n"))
    ))
    .row(vec![
        Button::action(tr!(t, "btn-form-ok"), Action::FormConfirm(e.id)),
        Button::action(tr!(t, "btn-form-edit"), Action::FormEdit(e.id, None)),
    ])
}

pub fn edit(ctx: &Ctx, dialogue: Dialogue, enrollment: i64, field: Option<Field>) -> Outcome {
    let e = match editable(ctx, enrollment) {
        Ok(e) => e,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    match field {
        Some(field) => ask(ctx, e, field, true),
        None => {
            let mut reply = Reply::text(tr!(ctx.texts, "form-edit-which"));
            for pair in Field::ALL.chunks(2) {
                reply = reply.row(
                    pair.iter()
                        .map(|f| {
                            Button::action(label(ctx.texts, *f), Action::FormEdit(e.id, Some(*f)))
                        })
                        .collect(),
                );
            }
            Outcome::stay(Dialogue::Idle).edit(reply)
        }
    }
}

pub fn confirm(ctx: &Ctx, dialogue: Dialogue, enrollment: i64) -> Outcome {
    let e = match editable(ctx, enrollment) {
        Ok(e) => e,
        Err(why) => return refuse(ctx, dialogue, why),
    };
    if let Some(field) = next_missing(&e.form, None) {
        return ask(ctx, e, field, false);
    }
    let t = ctx.texts;
    let out = Outcome::stay(Dialogue::Idle)
        .run(Command::SaveForm {
            enrollment,
            fields: e.form.clone(),
            completed: true,
        })
        .edit(Reply::text(tr!(t, "form-saved")));
    let mut completed = e.clone();
    completed.form_completed = true;
    let next = documents::ask_next(ctx, &completed);
    out.then(next)
}
