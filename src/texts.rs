//! Every text the bot says lives in `dialogues/ru.ftl` (Fluent); code refers to messages by id
//! only through [`tr!`], so a test can check that the file and the code agree.
use std::borrow::Cow;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The Russian texts, embedded in the binary so it runs from any directory.
pub const RU_FTL: &str = include_str!("../dialogues/ru.ftl");

pub struct Texts {
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Texts(ru)")
    }
}

impl Texts {
    pub fn russian() -> Self {
        Self::from_source(RU_FTL).expect("dialogues/ru.ftl is valid Fluent")
    }

    pub fn from_source(source: &str) -> Result<Self, String> {
        let resource = FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| {
            errors
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mut bundle = FluentBundle::new_concurrent(vec![unic_langid::langid!("ru")]);
        // No Unicode isolation marks: Telegram shows them as garbage in some clients.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{errors:?}"))?;
        Ok(Self { bundle })
    }

    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// The message `id` with `args`. A missing id is a bug caught by the texts test; at run
    /// time it shows the id rather than failing the learner's conversation.
    pub fn get(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::error!(message_id = id, "text missing from dialogues/ru.ftl");
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::error!(message_id = id, ?errors, "text formatting failed");
        }
        text.into_owned()
    }

    /// The wording of a document's sample (`doc-sample-*` messages) for its data.
    pub fn sample_wording(
        &self,
        data: &crate::certificate::SampleData,
    ) -> Result<crate::certificate::SampleWording, crate::certificate::WordingError> {
        crate::certificate::SampleWording::from_fluent(&self.bundle, data)
    }

    /// All message ids in the file (for the consistency test).
    pub fn ids(source: &str) -> Vec<String> {
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }
}

/// A Fluent argument value from the types the bot formats. Texts are Telegram HTML, so plain
/// strings are escaped here, once; [`Html`] marks a value that already is HTML.
pub fn arg<'a>(v: impl Into<ArgValue<'a>>) -> FluentValue<'a> {
    match v.into() {
        ArgValue::Str(s) => FluentValue::String(Cow::Owned(crate::journey::reply::escape(&s))),
        ArgValue::Html(s) => FluentValue::String(Cow::Owned(s)),
        ArgValue::Num(n) => FluentValue::from(n),
    }
}

pub enum ArgValue<'a> {
    Str(Cow<'a, str>),
    Html(String),
    Num(i64),
}

/// Text that is already Telegram HTML (built from other messages).
pub struct Html(pub String);

impl From<Html> for ArgValue<'_> {
    fn from(h: Html) -> Self {
        Self::Html(h.0)
    }
}

impl<'a> From<&'a str> for ArgValue<'a> {
    fn from(s: &'a str) -> Self {
        Self::Str(Cow::Borrowed(s))
    }
}
impl<'a> From<&'a String> for ArgValue<'a> {
    fn from(s: &'a String) -> Self {
        Self::Str(Cow::Borrowed(s.as_str()))
    }
}
impl From<String> for ArgValue<'_> {
    fn from(s: String) -> Self {
        Self::Str(Cow::Owned(s))
    }
}
macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for ArgValue<'_> {
            fn from(n: $t) -> Self {
                Self::Num(n as i64)
            }
        }
    )*};
}
num_arg!(i32, i64, u32, u64, usize);

/// `tr!(texts, <id literal>)` or `tr!(texts, <id literal>, name = value, …)`.
#[macro_export]
macro_rules! tr {
    ($texts:expr, $id:literal) => {
        $texts.get($id, None)
    };
    ($texts:expr, $id:literal, $($key:ident = $value:expr),+ $(,)?) => {{
        let mut args = fluent_bundle::FluentArgs::new();
        $( args.set(stringify!($key), $crate::texts::arg($value)); )+
        $texts.get($id, Some(&args))
    }};
}

/// A message id that code hands on to be rendered later (validation errors and the like).
/// Written as a macro so the texts test finds every id the code uses.
#[macro_export]
macro_rules! msg_id {
    ($id:literal) => {
        $id
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals_come_from_fluent() {
        let t = Texts::russian();
        let hours = |n: i64| tr!(t, "hours", count = n);
        assert_eq!(hours(1), "1 час");
        assert_eq!(hours(2), "2 часа");
        assert_eq!(hours(5), "5 часов");
        assert_eq!(hours(11), "11 часов");
        assert_eq!(hours(21), "21 час");
        assert_eq!(hours(72), "72 часа");
        assert_eq!(hours(252), "252 часа");
    }
}
