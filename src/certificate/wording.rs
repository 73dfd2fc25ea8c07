//! Every piece of Russian wording on the sample. The texts live in Fluent
//! (`doc-sample-*` messages in `dialogues/ru.ftl`);
//! [`SampleWording::from_fluent`] fills the struct from any bundle holding them.
use std::borrow::Borrow;

use fluent_bundle::bundle::FluentBundle;
use fluent_bundle::memoizer::MemoizerKind;
use fluent_bundle::{FluentArgs, FluentResource};

use super::date_ru::format_date_ru;
use super::SampleData;

/// The wording of one sample, already formatted with the learner's data. The learner's
/// full name itself is data ([`SampleData::full_name`]), printed between `lead_in` and
/// `completion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleWording {
    /// The diagonal mark across the page: «ОБРАЗЕЦ».
    pub watermark: String,
    /// The line at the foot saying this is a sample for checking data, not a document.
    pub disclaimer: String,
    /// «УДОСТОВЕРЕНИЕ».
    pub title: String,
    /// «о повышении квалификации».
    pub subtitle: String,
    /// «Настоящее удостоверение свидетельствует о том, что».
    pub lead_in: String,
    /// «с 1 декабря 2026 г. по 7 декабря 2026 г. прошла повышение квалификации в … по
    /// дополнительной профессиональной программе».
    pub completion: String,
    /// «„Охрана труда“», the program title in quotes.
    pub program: String,
    /// «в объёме 72 часа».
    pub volume: String,
    /// «Регистрационный номер ПК-2026-000123».
    pub registration: String,
    /// «Дата выдачи 7 декабря 2026 г.».
    pub issued: String,
    /// «Москва, 2026».
    pub place_and_year: String,
}

/// The Fluent bundle lacks a message or could not format it: an operator's error in the
/// `.ftl` file, named by message id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WordingError {
    #[error("Fluent message `{id}` is missing or has no value")]
    MissingMessage { id: String },
    #[error("Fluent message `{id}` did not format: {errors}")]
    Format { id: String, errors: String },
}

impl SampleWording {
    /// Formats the `doc-sample-*` messages for `data`. Any Fluent error (a missing message,
    /// an unknown variable) is returned rather than printed on a learner's sample.
    pub fn from_fluent<R, M>(
        bundle: &FluentBundle<R, M>,
        data: &SampleData,
    ) -> Result<Self, WordingError>
    where
        R: Borrow<FluentResource>,
        M: MemoizerKind,
    {
        let mut args = FluentArgs::new();
        args.set("name", data.full_name.trim().to_string());
        args.set("gender", gender_by_patronymic(&data.full_name).code());
        args.set("from", format_date_ru(data.starts_on));
        args.set("to", format_date_ru(data.ends_on));
        args.set("school", data.school_name.trim().to_string());
        args.set("program", data.program_title.trim().to_string());
        args.set("hours", data.hours);
        args.set("number", data.registration_number.trim().to_string());
        args.set("date", format_date_ru(data.issued_on));
        args.set("city", data.city.trim().to_string());
        // A string, so no number formatting can ever group it as «2 026».
        args.set("year", chrono::Datelike::year(&data.issued_on).to_string());

        let kind = data.document.code();
        let get = |id: &str| format_message(bundle, id, &args);
        Ok(Self {
            watermark: get("doc-sample-watermark")?,
            disclaimer: get("doc-sample-disclaimer")?,
            title: get(&format!("doc-sample-{kind}-title"))?,
            subtitle: get(&format!("doc-sample-{kind}-subtitle"))?,
            lead_in: get(&format!("doc-sample-{kind}-lead"))?,
            completion: get(&format!("doc-sample-{kind}-completion"))?,
            program: get("doc-sample-program")?,
            volume: get("doc-sample-volume")?,
            registration: get("doc-sample-registration")?,
            issued: get("doc-sample-issued")?,
            place_and_year: get("doc-sample-place-year")?,
        })
    }
}

fn format_message<R, M>(
    bundle: &FluentBundle<R, M>,
    id: &str,
    args: &FluentArgs<'_>,
) -> Result<String, WordingError>
where
    R: Borrow<FluentResource>,
    M: MemoizerKind,
{
    let pattern = bundle
        .get_message(id)
        .and_then(|message| message.value())
        .ok_or_else(|| WordingError::MissingMessage { id: id.to_string() })?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if !errors.is_empty() {
        let errors = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(WordingError::Format {
            id: id.to_string(),
            errors,
        });
    }
    Ok(strip_invisible_controls(&text))
}

/// Fluent wraps placeables in Unicode isolation marks (U+2068, U+2069) for bidi text;
/// a Russian page does not need them, the fonts have no glyphs for them, and they would
/// break text search in the PDF.
pub(crate) fn strip_invisible_controls(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(c,
                '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .collect()
}

/// The grammatical gender Russian verbs agree with («прошла» / «прошёл»), as the
/// patronymic tells it; `Unknown` without one (foreign names), so the wording falls back
/// to «прошёл(ла)».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

impl Gender {
    pub fn code(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Unknown => "unknown",
        }
    }
}

/// «Иванова Мария Сергеевна» → `Female`; «Петров Илья Ильич» → `Male`; «Смит Джон» →
/// `Unknown`. Also knows the Turkic «оглы» / «кызы» (and «улы» / «гызы») that follow a
/// patronymic stem.
pub fn gender_by_patronymic(full_name: &str) -> Gender {
    let words: Vec<String> = full_name
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect();
    if words.len() < 3 {
        return Gender::Unknown;
    }
    let last = words[words.len() - 1].as_str();
    match last {
        "кызы" | "гызы" => return Gender::Female,
        "оглы" | "улы" | "уулу" => return Gender::Male,
        _ => {}
    }
    if last.ends_with("вна") || last.ends_with("чна") || last.ends_with("шна") {
        Gender::Female
    } else if last.ends_with("ич") {
        Gender::Male
    } else {
        Gender::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patronymic_tells_the_gender() {
        assert_eq!(
            gender_by_patronymic("Иванова Мария Сергеевна"),
            Gender::Female
        );
        assert_eq!(
            gender_by_patronymic("Кузьмина Анна Ильинична"),
            Gender::Female
        );
        assert_eq!(gender_by_patronymic("Петров Илья Ильич"), Gender::Male);
        assert_eq!(gender_by_patronymic("ПЕТРОВ ИЛЬЯ АНДРЕЕВИЧ"), Gender::Male);
        assert_eq!(
            gender_by_patronymic("Мамедов Эльчин Рашид оглы"),
            Gender::Male
        );
        assert_eq!(
            gender_by_patronymic("Алиева Лейла Рашид кызы"),
            Gender::Female
        );
        assert_eq!(gender_by_patronymic("Смит Джон"), Gender::Unknown);
        assert_eq!(gender_by_patronymic("Мария"), Gender::Unknown);
        assert_eq!(gender_by_patronymic("Ким Ли Су"), Gender::Unknown);
    }

    #[test]
    fn isolation_marks_are_removed_and_text_kept() {
        assert_eq!(
            strip_invisible_controls("в объёме \u{2068}72\u{2069} часа"),
            "в объёме 72 часа"
        );
    }
}
