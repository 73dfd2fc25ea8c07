//! The TOML catalog file: its raw shape (every value with its span, unknown keys refused),
//! and the checks that turn it into a [`Catalog`].
//!
//! Conventions of the format (the example file documents them for the office manager):
//! ids are `[a-z0-9-]{1,40}` (so that `/start course_<id>` fits Telegram's 64-character
//! deep link); lesson times are local times in `timezone` (default Europe/Moscow); prices
//! are whole roubles (`4900`) or a string with kopecks (`"4900.50"`); the correct answers
//! of a question are numbered from 1, as the options are shown to a person.
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::locate::locate;
use super::{CatalogError, EntryKind, EntryRef};
use crate::domain::catalog::{
    Attestation, Catalog, Course, DocumentKind, Group, Lesson, Link, Money, Offer, ProgramKind,
    Question, QuestionKind,
};

pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Europe::Moscow;

const MAX_ID_LEN: usize = 40;
const MAX_LESSON_MINUTES: i64 = 720;
const MAX_ATTEMPTS: i64 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    timezone: Option<Spanned<String>>,
    offer: Option<Spanned<RawOffer>>,
    #[serde(default)]
    courses: Vec<Spanned<RawCourse>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    title: Spanned<String>,
    version: Spanned<String>,
    url: Spanned<String>,
    /// The document's text, relative to the catalog file; its SHA-256 is recorded.
    file: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCourse {
    id: Spanned<String>,
    program: Spanned<ProgramKind>,
    title: Spanned<String>,
    description: Spanned<String>,
    hours: Spanned<i64>,
    price: Spanned<toml::Value>,
    format: Spanned<String>,
    document: Option<Spanned<DocumentKind>>,
    offer: Option<Spanned<RawOffer>>,
    attestation: Spanned<RawAttestation>,
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttestation {
    pass_percent: Spanned<i64>,
    max_attempts: Spanned<i64>,
    pause_minutes: Option<Spanned<i64>>,
    time_limit_minutes: Option<Spanned<i64>>,
    questions_per_attempt: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Spanned<String>,
    title: Spanned<String>,
    starts_on: Spanned<toml::Value>,
    ends_on: Spanned<toml::Value>,
    test_opens_on: Option<Spanned<toml::Value>>,
    webinar_url: Spanned<String>,
    #[serde(default)]
    lessons: Vec<Spanned<RawLesson>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    id: Spanned<String>,
    starts_at: Spanned<toml::Value>,
    duration_minutes: Spanned<i64>,
    topic: Spanned<String>,
    webinar_session_id: Option<Spanned<toml::Value>>,
    #[serde(default)]
    materials: Vec<Spanned<RawLink>>,
    recording_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    title: Spanned<String>,
    url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: Spanned<String>,
    kind: Spanned<QuestionKind>,
    options: Spanned<Vec<Spanned<String>>>,
    /// 1-based option numbers.
    correct: Spanned<Vec<Spanned<i64>>>,
}

/// Reads and checks the catalog file; the offer documents it names are read relative to it.
pub fn load_catalog(path: &Path) -> Result<Catalog, CatalogError> {
    let file_name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
        file: file_name.clone(),
        line: None,
        entries: Vec::new(),
        field: None,
        reason: format!("cannot read the catalog file: {e}"),
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    parse_catalog(&text, &file_name, base_dir)
}

/// Parses and checks a catalog. `file_name` is what errors call the file; `base_dir` is
/// where the offer documents named in it are looked for.
pub fn parse_catalog(
    text: &str,
    file_name: &str,
    base_dir: &Path,
) -> Result<Catalog, CatalogError> {
    let checker = Checker {
        text,
        file_name,
        base_dir,
        timezone: DEFAULT_TIMEZONE,
        first_use: HashMap::new(),
    };
    let raw: RawCatalog = toml::from_str(text).map_err(|e| checker.deserialize_error(&e))?;
    checker.catalog(raw)
}

/// Where an error is: the entries leading to it.
type Place = Vec<EntryRef>;

struct Checker<'a> {
    text: &'a str,
    file_name: &'a str,
    base_dir: &'a Path,
    timezone: Tz,
    /// Ids seen so far, by kind, with the line of their first use.
    first_use: HashMap<(&'static str, String), usize>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(
        &self,
        span: Range<usize>,
        place: &Place,
        field: Option<&str>,
        reason: impl Into<String>,
    ) -> CatalogError {
        CatalogError {
            file: self.file_name.to_string(),
            line: Some(self.line_of(span.start)),
            entries: place.clone(),
            field: field.map(str::to_string),
            reason: reason.into(),
        }
    }

    fn field_error<T>(
        &self,
        value: &Spanned<T>,
        place: &Place,
        field: &str,
        reason: impl Into<String>,
    ) -> CatalogError {
        self.error(value.span(), place, Some(field), reason)
    }

    /// A syntax or shape error from the TOML deserializer, placed in its entry and field.
    fn deserialize_error(&self, error: &toml::de::Error) -> CatalogError {
        let message = error.message().trim();
        let Some(span) = error.span() else {
            return CatalogError {
                file: self.file_name.to_string(),
                line: None,
                entries: Vec::new(),
                field: None,
                reason: message.replace('\n', "; "),
            };
        };
        let Some(location) = locate(self.text, span.start) else {
            // Not valid TOML at all: the parser's line and words are all there is.
            let lines: Vec<&str> = message.lines().map(str::trim).collect();
            return CatalogError {
                file: self.file_name.to_string(),
                line: Some(self.line_of(span.start)),
                entries: Vec::new(),
                field: None,
                reason: format!("TOML syntax error: {}", lines.join("; ")),
            };
        };
        let (field, reason) = if let Some(name) = backticked_after(message, "missing field ") {
            (
                Some(format!("{}{name}", location.container)),
                "this field is required but missing".to_string(),
            )
        } else if let Some(name) = backticked_after(message, "unknown field ") {
            let expected = message
                .split_once(", expected ")
                .map(|(_, rest)| format!("; expected {rest}"))
                .unwrap_or_default();
            let field = match location.field {
                Some(path) if path.ends_with(name) => path,
                _ => format!("{}{name}", location.container),
            };
            (Some(field), format!("unknown field{expected}"))
        } else {
            (location.field, plain_type_names(message))
        };
        CatalogError {
            file: self.file_name.to_string(),
            line: Some(self.line_of(span.start)),
            entries: location.entries,
            field,
            reason,
        }
    }

    fn catalog(mut self, raw: RawCatalog) -> Result<Catalog, CatalogError> {
        let top: Place = Vec::new();
        if let Some(tz) = &raw.timezone {
            self.timezone = tz.get_ref().trim().parse().map_err(|_| {
                self.field_error(
                    tz,
                    &top,
                    "timezone",
                    format!(
                        "unknown time zone \"{}\"; use a name such as \"Europe/Moscow\"",
                        tz.get_ref()
                    ),
                )
            })?;
        }
        let school_offer = raw
            .offer
            .as_ref()
            .map(|offer| self.offer(offer.get_ref(), &top, "offer."))
            .transpose()?;
        if raw.courses.is_empty() {
            return Err(CatalogError {
                file: self.file_name.to_string(),
                line: None,
                entries: Vec::new(),
                field: None,
                reason: "the catalog has no courses: add a [[courses]] entry".into(),
            });
        }
        let mut courses = Vec::with_capacity(raw.courses.len());
        for (i, course) in raw.courses.iter().enumerate() {
            courses.push(self.course(course, i + 1, school_offer.is_some())?);
        }
        Ok(Catalog {
            school_offer,
            courses,
        })
    }

    fn offer(&self, raw: &RawOffer, place: &Place, prefix: &str) -> Result<Offer, CatalogError> {
        let title = self.text_field(&raw.title, place, &format!("{prefix}title"))?;
        let version = self.text_field(&raw.version, place, &format!("{prefix}version"))?;
        let url = self.url_field(&raw.url, place, &format!("{prefix}url"))?;
        let file = self.text_field(&raw.file, place, &format!("{prefix}file"))?;
        let path = self.base_dir.join(&file);
        let bytes = std::fs::read(&path).map_err(|e| {
            self.field_error(
                &raw.file,
                place,
                &format!("{prefix}file"),
                format!("cannot read the offer document {}: {e}", path.display()),
            )
        })?;
        Ok(Offer {
            title,
            version,
            url,
            sha256: hex::encode(Sha256::digest(&bytes)),
        })
    }

    fn course(
        &mut self,
        raw: &Spanned<RawCourse>,
        position: usize,
        has_school_offer: bool,
    ) -> Result<Course, CatalogError> {
        let course = raw.get_ref();
        let mut place = vec![EntryRef {
            kind: EntryKind::Course,
            id: Some(course.id.get_ref().clone()),
            position,
        }];
        let id = self.id_field(&course.id, &place, EntryKind::Course)?;
        let program = *course.program.get_ref();
        let title = self.text_field(&course.title, &place, "title")?;
        let description = self.text_field(&course.description, &place, "description")?;
        let hours = self.whole_number(&course.hours, &place, "hours", 1, 10_000)?;
        let price = parse_price(course.price.get_ref())
            .map_err(|reason| self.field_error(&course.price, &place, "price", reason))?;
        let format = self.text_field(&course.format, &place, "format")?;
        let lawful_document = DocumentKind::for_program(program);
        let document = match &course.document {
            Some(document) if *document.get_ref() != lawful_document => {
                return Err(self.field_error(
                    document,
                    &place,
                    "document",
                    format!(
                        "a {} program issues the document \"{}\" (273-ФЗ, ст. 60), not \"{}\"; \
                         remove the field or set it to \"{}\"",
                        program.code(),
                        lawful_document.code(),
                        document.get_ref().code(),
                        lawful_document.code()
                    ),
                ))
            }
            _ => lawful_document,
        };
        let offer = course
            .offer
            .as_ref()
            .map(|offer| self.offer(offer.get_ref(), &place, "offer."))
            .transpose()?;
        if offer.is_none() && !has_school_offer {
            return Err(self.error(
                raw.span(),
                &place,
                Some("offer"),
                "the course has no offer: add [offer] at the top of the file \
                 or [courses.offer] to the course",
            ));
        }

        let mut groups = Vec::with_capacity(course.groups.len());
        for (i, group) in course.groups.iter().enumerate() {
            groups.push(self.group(group, i + 1, &id, &mut place)?);
        }

        let mut questions = Vec::with_capacity(course.questions.len());
        for (i, question) in course.questions.iter().enumerate() {
            questions.push(self.question(question, i + 1, &mut place)?);
        }
        if questions.is_empty() {
            return Err(self.error(
                raw.span(),
                &place,
                Some("questions"),
                "the course has no questions for the final test: add [[courses.questions]] entries",
            ));
        }
        let attestation = self.attestation(&course.attestation, questions, &place)?;

        Ok(Course {
            id,
            program,
            title,
            description,
            hours,
            price,
            format,
            document,
            offer,
            attestation,
            groups,
        })
    }

    fn attestation(
        &self,
        raw: &Spanned<RawAttestation>,
        questions: Vec<Question>,
        place: &Place,
    ) -> Result<Attestation, CatalogError> {
        let a = raw.get_ref();
        let pass_percent =
            self.whole_number(&a.pass_percent, place, "attestation.pass_percent", 1, 100)?;
        let max_attempts = self.whole_number(
            &a.max_attempts,
            place,
            "attestation.max_attempts",
            1,
            MAX_ATTEMPTS,
        )?;
        let pause_minutes = match &a.pause_minutes {
            Some(v) => self.whole_number(v, place, "attestation.pause_minutes", 0, 100_000)?,
            None => 0,
        };
        let time_limit_minutes = a
            .time_limit_minutes
            .as_ref()
            .map(|v| self.whole_number(v, place, "attestation.time_limit_minutes", 1, 100_000))
            .transpose()?;
        let bank = questions.len();
        let questions_per_attempt = match &a.questions_per_attempt {
            Some(v) => {
                let count = *v.get_ref();
                if count > bank as i64 {
                    return Err(self.field_error(
                        v,
                        place,
                        "attestation.questions_per_attempt",
                        format!(
                            "an attempt cannot draw {count} questions: the course has only {bank}"
                        ),
                    ));
                }
                Some(self.whole_number(
                    v,
                    place,
                    "attestation.questions_per_attempt",
                    1,
                    bank as i64,
                )?)
            }
            None => None,
        };
        Ok(Attestation {
            pass_percent,
            max_attempts,
            pause_minutes,
            time_limit_minutes,
            questions_per_attempt,
            questions,
        })
    }

    fn group(
        &mut self,
        raw: &Spanned<RawGroup>,
        position: usize,
        course_id: &str,
        place: &mut Place,
    ) -> Result<Group, CatalogError> {
        let group = raw.get_ref();
        place.push(EntryRef {
            kind: EntryKind::Group,
            id: Some(group.id.get_ref().clone()),
            position,
        });
        let id = self.id_field(&group.id, place, EntryKind::Group)?;
        let title = self.text_field(&group.title, place, "title")?;
        let starts_on = self.date_field(&group.starts_on, place, "starts_on")?;
        let ends_on = self.date_field(&group.ends_on, place, "ends_on")?;
        if ends_on < starts_on {
            return Err(self.field_error(
                &group.ends_on,
                place,
                "ends_on",
                format!("the end date {ends_on} is before the start date {starts_on}"),
            ));
        }
        let test_opens_on = match &group.test_opens_on {
            Some(raw_date) => {
                let date = self.date_field(raw_date, place, "test_opens_on")?;
                if date < starts_on || date > ends_on {
                    return Err(self.field_error(
                        raw_date,
                        place,
                        "test_opens_on",
                        format!(
                            "the test opens on {date}, outside the group's dates \
                             {starts_on} to {ends_on}"
                        ),
                    ));
                }
                Some(date)
            }
            None => None,
        };
        let webinar_url = self.url_field(&group.webinar_url, place, "webinar_url")?;

        // Lessons may be listed in any order; they are kept by start time and must not overlap.
        let mut lessons = Vec::with_capacity(group.lessons.len());
        for (i, lesson) in group.lessons.iter().enumerate() {
            lessons.push((self.lesson(lesson, i + 1, place, starts_on, ends_on)?, i));
        }
        lessons.sort_by_key(|(lesson, _)| lesson.starts_at);
        for pair in lessons.windows(2) {
            let ((earlier, _), (later, later_index)) = (&pair[0], &pair[1]);
            if later.starts_at < earlier.ends_at() {
                place.push(EntryRef {
                    kind: EntryKind::Lesson,
                    id: Some(later.id.clone()),
                    position: later_index + 1,
                });
                let local_end = earlier.ends_at().with_timezone(&self.timezone);
                return Err(self.field_error(
                    &group.lessons[*later_index].get_ref().starts_at,
                    place,
                    "starts_at",
                    format!(
                        "the lesson starts before the lesson \"{}\" ends at {}",
                        earlier.id,
                        local_end.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
        }
        place.pop();
        Ok(Group {
            id,
            course_id: course_id.to_string(),
            title,
            starts_on,
            ends_on,
            test_opens_on,
            webinar_url,
            lessons: lessons.into_iter().map(|(lesson, _)| lesson).collect(),
        })
    }

    fn lesson(
        &mut self,
        raw: &Spanned<RawLesson>,
        position: usize,
        place: &mut Place,
        group_starts_on: NaiveDate,
        group_ends_on: NaiveDate,
    ) -> Result<Lesson, CatalogError> {
        let lesson = raw.get_ref();
        place.push(EntryRef {
            kind: EntryKind::Lesson,
            id: Some(lesson.id.get_ref().clone()),
            position,
        });
        let id = self.id_field(&lesson.id, place, EntryKind::Lesson)?;
        let local = local_datetime(lesson.starts_at.get_ref())
            .map_err(|reason| self.field_error(&lesson.starts_at, place, "starts_at", reason))?;
        let starts_at = match self.timezone.from_local_datetime(&local) {
            chrono::LocalResult::Single(at) => at.with_timezone(&Utc),
            _ => {
                return Err(self.field_error(
                    &lesson.starts_at,
                    place,
                    "starts_at",
                    format!(
                        "{} does not exist or is ambiguous in the time zone {} \
                         (a daylight-saving change)",
                        local.format("%Y-%m-%d %H:%M"),
                        self.timezone.name()
                    ),
                ))
            }
        };
        let day = local.date();
        if day < group_starts_on || day > group_ends_on {
            return Err(self.field_error(
                &lesson.starts_at,
                place,
                "starts_at",
                format!(
                    "the lesson on {} is outside the group's dates {group_starts_on} to {group_ends_on}",
                    local.format("%Y-%m-%d %H:%M")
                ),
            ));
        }
        let duration_minutes = self.whole_number(
            &lesson.duration_minutes,
            place,
            "duration_minutes",
            1,
            MAX_LESSON_MINUTES,
        )?;
        let topic = self.text_field(&lesson.topic, place, "topic")?;
        let webinar_session_id = match &lesson.webinar_session_id {
            None => None,
            Some(raw_id) => Some(match raw_id.get_ref() {
                toml::Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
                toml::Value::Integer(n) if *n > 0 => n.to_string(),
                _ => {
                    return Err(self.field_error(
                        raw_id,
                        place,
                        "webinar_session_id",
                        "expected the webinar platform's session id, such as \"1856301234\"",
                    ))
                }
            }),
        };
        let mut materials = Vec::with_capacity(lesson.materials.len());
        for (i, link) in lesson.materials.iter().enumerate() {
            let prefix = format!("materials[{}].", i + 1);
            materials.push(Link {
                title: self.text_field(&link.get_ref().title, place, &format!("{prefix}title"))?,
                url: self.url_field(&link.get_ref().url, place, &format!("{prefix}url"))?,
            });
        }
        let recording_url = lesson
            .recording_url
            .as_ref()
            .map(|url| self.url_field(url, place, "recording_url"))
            .transpose()?;
        place.pop();
        Ok(Lesson {
            id,
            starts_at,
            duration_minutes,
            topic,
            webinar_session_id,
            materials,
            recording_url,
        })
    }

    fn question(
        &mut self,
        raw: &Spanned<RawQuestion>,
        position: usize,
        place: &mut Place,
    ) -> Result<Question, CatalogError> {
        let question = raw.get_ref();
        place.push(EntryRef {
            kind: EntryKind::Question,
            id: Some(question.id.get_ref().clone()),
            position,
        });
        let id = self.id_field(&question.id, place, EntryKind::Question)?;
        let text = self.text_field(&question.text, place, "text")?;
        let kind = *question.kind.get_ref();
        let raw_options = question.options.get_ref();
        if raw_options.len() < 2 {
            return Err(self.field_error(
                &question.options,
                place,
                "options",
                format!(
                    "a question needs at least 2 options, found {}",
                    raw_options.len()
                ),
            ));
        }
        let mut options: Vec<String> = Vec::with_capacity(raw_options.len());
        for (i, option) in raw_options.iter().enumerate() {
            let field = format!("options[{}]", i + 1);
            let text = self.text_field(option, place, &field)?;
            if let Some(same) = options.iter().position(|o| o == &text) {
                return Err(self.field_error(
                    option,
                    place,
                    &field,
                    format!("option {} repeats option {}", i + 1, same + 1),
                ));
            }
            options.push(text);
        }
        let raw_correct = question.correct.get_ref();
        if raw_correct.is_empty() {
            return Err(self.field_error(
                &question.correct,
                place,
                "correct",
                "list the number of the right option (counting from 1), e.g. correct = [2]",
            ));
        }
        let mut correct: Vec<usize> = Vec::with_capacity(raw_correct.len());
        for number in raw_correct {
            let n = *number.get_ref();
            if n < 1 || n > options.len() as i64 {
                return Err(self.field_error(
                    number,
                    place,
                    "correct",
                    format!(
                        "there is no option {n}: the options are numbered 1 to {}",
                        options.len()
                    ),
                ));
            }
            let index = (n - 1) as usize;
            if correct.contains(&index) {
                return Err(self.field_error(
                    number,
                    place,
                    "correct",
                    format!("option {n} is listed twice"),
                ));
            }
            correct.push(index);
        }
        if kind == QuestionKind::Single && correct.len() != 1 {
            return Err(self.field_error(
                &question.correct,
                place,
                "correct",
                format!(
                    "a single-choice question has exactly one right option, found {}; \
                     keep one or set kind = \"multiple\"",
                    correct.len()
                ),
            ));
        }
        correct.sort_unstable();
        place.pop();
        Ok(Question {
            id,
            text,
            kind,
            options,
            correct,
        })
    }

    // --- field checks ----------------------------------------------------------------

    fn id_field(
        &mut self,
        raw: &Spanned<String>,
        place: &Place,
        kind: EntryKind,
    ) -> Result<String, CatalogError> {
        let id = raw.get_ref();
        let well_formed = !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            return Err(self.field_error(
                raw,
                place,
                "id",
                format!(
                    "the id \"{id}\" must be 1 to {MAX_ID_LEN} characters of a-z, 0-9 and \"-\""
                ),
            ));
        }
        let line = self.line_of(raw.span().start);
        if let Some(first) = self.first_use.get(&(kind.noun(), id.clone())) {
            return Err(self.field_error(
                raw,
                place,
                "id",
                format!(
                    "the {} id \"{id}\" is already used at line {first}",
                    kind.noun()
                ),
            ));
        }
        self.first_use.insert((kind.noun(), id.clone()), line);
        Ok(id.clone())
    }

    fn text_field(
        &self,
        raw: &Spanned<String>,
        place: &Place,
        field: &str,
    ) -> Result<String, CatalogError> {
        let text = raw.get_ref().trim();
        if text.is_empty() {
            return Err(self.field_error(raw, place, field, "must not be empty"));
        }
        Ok(text.to_string())
    }

    fn url_field(
        &self,
        raw: &Spanned<String>,
        place: &Place,
        field: &str,
    ) -> Result<String, CatalogError> {
        let text = raw.get_ref().trim();
        match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(url.to_string())
            }
            _ => Err(self.field_error(
                raw,
                place,
                field,
                format!("\"{text}\" is not an http(s) link"),
            )),
        }
    }

    fn whole_number(
        &self,
        raw: &Spanned<i64>,
        place: &Place,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<u32, CatalogError> {
        let n = *raw.get_ref();
        if n < min || n > max {
            return Err(self.field_error(
                raw,
                place,
                field,
                format!("must be {min} to {max}, found {n}"),
            ));
        }
        Ok(u32::try_from(n).expect("bounded above by a u32 limit"))
    }

    fn date_field(
        &self,
        raw: &Spanned<toml::Value>,
        place: &Place,
        field: &str,
    ) -> Result<NaiveDate, CatalogError> {
        date_value(raw.get_ref()).map_err(|reason| self.field_error(raw, place, field, reason))
    }
}

/// The name between backticks after `lead` in a serde message: "missing field `hours`".
fn backticked_after<'m>(message: &'m str, lead: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(lead)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Serde speaks of Rust types; the operator reads TOML: "invalid type: string \"72\",
/// expected i64" becomes "expected a whole number, found string \"72\"".
fn plain_type_names(message: &str) -> String {
    let plain = message
        .replace("expected i64", "expected a whole number")
        .replace("expected a string", "expected a text in quotes")
        .replace("expected a sequence", "expected a list in [brackets]")
        .replace(
            "expected struct RawLink",
            "expected { title = \"…\", url = \"…\" }",
        )
        .replace("expected struct Raw", "expected a table ");
    let found_expected = plain
        .strip_prefix("invalid type: ")
        .or_else(|| plain.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    match found_expected {
        Some((found, expected)) => format!("expected {expected}, found {found}"),
        None => plain,
    }
}

fn parse_price(value: &toml::Value) -> Result<Money, String> {
    const HINT: &str = "write whole roubles (4900) or a text with kopecks (\"4900.50\")";
    match value {
        toml::Value::Integer(roubles) if *roubles < 0 => {
            Err(format!("the price cannot be negative, found {roubles}"))
        }
        toml::Value::Integer(roubles) => roubles
            .checked_mul(100)
            .map(Money)
            .ok_or_else(|| format!("the price {roubles} is too large")),
        toml::Value::String(text) => {
            parse_rouble_text(text).ok_or_else(|| format!("\"{text}\" is not a price; {HINT}"))
        }
        toml::Value::Float(_) => Err(format!(
            "a price with a decimal point must be quoted; {HINT}"
        )),
        _ => Err(format!("expected a price; {HINT}")),
    }
}

/// "4900", "4 900", "4900.5", "4900,50" → kopecks; at most two decimals, never negative.
fn parse_rouble_text(text: &str) -> Option<Money> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (roubles, kopecks) = match compact.split_once(['.', ',']) {
        Some((r, k)) => (r, k),
        None => (compact.as_str(), ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(roubles) || (!kopecks.is_empty() && !digits(kopecks)) || kopecks.len() > 2 {
        return None;
    }
    let roubles: i64 = roubles.parse().ok()?;
    let kopecks: i64 = match kopecks.len() {
        0 => 0,
        1 => kopecks.parse::<i64>().ok()? * 10,
        _ => kopecks.parse().ok()?,
    };
    roubles.checked_mul(100)?.checked_add(kopecks).map(Money)
}

fn date_value(value: &toml::Value) -> Result<NaiveDate, String> {
    const HINT: &str = "expected a date such as 2026-12-07";
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                .ok_or_else(|| format!("{dt} is not a calendar date")),
            _ => Err(format!("{HINT}, without a time")),
        },
        toml::Value::String(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| format!("\"{text}\" is not a date; {HINT}")),
        _ => Err(HINT.to_string()),
    }
}

/// "2026-12-07 18:00" (or a TOML local date-time) in the file's time zone.
fn local_datetime(value: &toml::Value) -> Result<NaiveDateTime, String> {
    const HINT: &str = "expected a local date and time such as \"2026-12-07 18:00\"";
    match value {
        toml::Value::String(text) => {
            let text = text.trim();
            [
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .ok_or_else(|| format!("\"{text}\" is not a date and time; {HINT}"))
        }
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), Some(t), None) => {
                NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                    .and_then(|date| {
                        date.and_hms_opt(t.hour.into(), t.minute.into(), t.second.into())
                    })
                    .ok_or_else(|| format!("{dt} is not a calendar date and time"))
            }
            (_, _, Some(_)) => Err(format!(
                "write the local time without an offset ({HINT}); the file's timezone applies"
            )),
            _ => Err(HINT.to_string()),
        },
        _ => Err(HINT.to_string()),
    }
}
