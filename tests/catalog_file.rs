//! The catalog file: the example loads with everything the product needs, every kind of
//! mistake an office manager can make gets one exact line (file:line, entry, field), and
//! random damage to the file never panics the parser.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use uchbot::catalog::{load_catalog, parse_catalog, CatalogError, EntryKind};
use uchbot::domain::catalog::{Catalog, DocumentKind, Money, ProgramKind, QuestionKind};

const EXAMPLE: &str = "dialogues/catalog.example.toml";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn example() -> Catalog {
    load_catalog(Path::new(EXAMPLE)).unwrap_or_else(|e| panic!("{e}"))
}

// --- The example -------------------------------------------------------------------------

#[test]
fn example_has_all_three_sections_with_at_least_two_courses_each() {
    let catalog = example();
    assert!(catalog.courses.len() >= 6, "{}", catalog.courses.len());
    for program in ProgramKind::ALL {
        let courses: Vec<_> = catalog.courses_in(program).collect();
        assert!(courses.len() >= 2, "{program:?}: {}", courses.len());
        for course in courses {
            assert_eq!(course.document, DocumentKind::for_program(program));
        }
    }
    let fgos = catalog.course("pk-fgos").unwrap();
    assert_eq!(
        fgos.title,
        "Организация образовательного процесса в соответствии с ФГОС"
    );
    assert_eq!(fgos.hours, 72);
    assert_eq!(fgos.price, Money(490_000));
    assert_eq!(fgos.price.display_rub(), "4\u{a0}900\u{a0}₽");
    assert!(!fgos.description.contains('\n'), "{:?}", fgos.description);
    let dod = catalog.course("pp-dod").unwrap();
    assert_eq!((dod.program, dod.hours), (ProgramKind::Retraining, 252));
    // "3200.00" in the file: a price with kopecks.
    assert_eq!(
        catalog.course("pk-labor-safety").unwrap().price,
        Money(320_000)
    );
}

#[test]
fn example_course_ids_fit_telegram_deep_links() {
    for course in example().courses {
        let payload = format!("course_{}", course.id);
        assert!(payload.len() <= 64, "{payload}");
        assert!(
            payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{payload}"
        );
    }
}

#[test]
fn example_groups_and_lessons_are_complete_and_consistent() {
    let catalog = example();
    let mut lesson_ids = HashSet::new();
    for course in &catalog.courses {
        assert!(
            (1..=2).contains(&course.groups.len()),
            "{}: {} groups",
            course.id,
            course.groups.len()
        );
        for group in &course.groups {
            assert_eq!(group.course_id, course.id);
            assert!(group.starts_on <= group.ends_on, "{}", group.id);
            assert!(
                group.webinar_url.starts_with("https://"),
                "{}",
                group.webinar_url
            );
            assert!(
                (3..=8).contains(&group.lessons.len()),
                "{}: {} lessons",
                group.id,
                group.lessons.len()
            );
            for pair in group.lessons.windows(2) {
                assert!(pair[0].ends_at() <= pair[1].starts_at, "{}", pair[1].id);
            }
            for lesson in &group.lessons {
                assert!(lesson_ids.insert(lesson.id.clone()), "{}", lesson.id);
                assert!(!lesson.topic.is_empty());
                assert!(lesson.webinar_session_id.is_some(), "{}", lesson.id);
                let day = lesson
                    .starts_at
                    .with_timezone(&chrono_tz::Europe::Moscow)
                    .date_naive();
                assert!(
                    group.starts_on <= day && day <= group.ends_on,
                    "{}",
                    lesson.id
                );
            }
            if let Some(opens) = group.test_opens_on {
                assert!(group.starts_on <= opens && opens <= group.ends_on);
            }
        }
        // Something to join after today.
        assert!(course.next_group(today()).is_some(), "{}", course.id);
    }
    let with_materials = catalog
        .courses
        .iter()
        .flat_map(|c| &c.groups)
        .flat_map(|g| &g.lessons)
        .filter(|l| !l.materials.is_empty())
        .count();
    assert!(with_materials >= 20, "{with_materials}");
}

#[test]
fn example_has_an_ended_group_and_one_in_progress_with_recorded_past_lessons() {
    let catalog = example();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
    let groups: Vec<_> = catalog.courses.iter().flat_map(|c| &c.groups).collect();
    let ended = groups
        .iter()
        .find(|g| g.ends_on < today())
        .expect("a group that has already ended");
    assert!(ended.lessons.iter().all(|l| l.recording_url.is_some()));
    let running = groups
        .iter()
        .find(|g| g.starts_on <= today() && today() <= g.ends_on)
        .expect("a group in progress");
    let (past, future): (Vec<_>, Vec<_>) = running.lessons.iter().partition(|l| l.ends_at() < now);
    assert!(!past.is_empty() && !future.is_empty());
    assert!(past.iter().all(|l| l.recording_url.is_some()));
    assert!(future.iter().all(|l| l.recording_url.is_none()));
    // Lesson times are Moscow time in the file: 18:00 MSK is 15:00 UTC.
    let (_, group) = catalog.group("pk-fgos-2026-11").unwrap();
    assert_eq!(
        group.lessons[0].starts_at,
        Utc.with_ymd_and_hms(2026, 11, 16, 15, 0, 0).unwrap()
    );
    assert_eq!(group.lessons[0].duration_minutes, 90);
}

#[test]
fn example_test_banks_are_usable() {
    let catalog = example();
    let mut question_ids = HashSet::new();
    for course in &catalog.courses {
        let attestation = &course.attestation;
        assert!(
            attestation.questions.len() >= 10,
            "{}: {} questions",
            course.id,
            attestation.questions.len()
        );
        assert!(
            attestation
                .questions
                .iter()
                .any(|q| q.kind == QuestionKind::Multiple),
            "{} has no multiple-choice question",
            course.id
        );
        if let Some(per_attempt) = attestation.questions_per_attempt {
            assert!(per_attempt as usize <= attestation.questions.len());
        }
        assert!((1..=100).contains(&attestation.pass_percent));
        for question in &attestation.questions {
            assert!(question_ids.insert(question.id.clone()), "{}", question.id);
            assert!(question.options.len() >= 2);
            assert!(question.correct.iter().all(|&i| i < question.options.len()));
            if question.kind == QuestionKind::Single {
                assert_eq!(question.correct.len(), 1, "{}", question.id);
            }
        }
    }
    // The file numbers options from 1; the catalog holds indexes from 0.
    let fgos = catalog.course("pk-fgos").unwrap();
    let q02 = &fgos.attestation.questions[1];
    assert_eq!(q02.id, "pk-fgos-q02");
    assert_eq!(q02.correct, vec![2]);
    assert!(q02.options[2].contains("273-ФЗ"));
    let q03 = &fgos.attestation.questions[2];
    assert_eq!(q03.correct, vec![0, 1, 2]);
}

#[test]
fn example_offer_records_the_hash_of_the_published_text() {
    let catalog = example();
    let offer = catalog.school_offer.as_ref().expect("a school offer");
    let text = std::fs::read("dialogues/offer.md").unwrap();
    assert_eq!(offer.sha256, hex::encode(Sha256::digest(&text)));
    assert_eq!(offer.sha256.len(), 64);
    assert!(String::from_utf8(text)
        .unwrap()
        .contains(&format!("Версия {}", offer.version)));
    for course in &catalog.courses {
        assert_eq!(catalog.offer_for(course), Some(offer));
    }
}

// --- Errors ------------------------------------------------------------------------------

/// A small valid catalog; the line numbers in the assertions below refer to it.
const BASE: &str = r#"timezone = "Europe/Moscow"

[offer]
title = "Договор-оферта"
version = "2026-11-01"
url = "https://uchmet.ru/oferta"
file = "offer.md"

[[courses]]
id = "pk-fgos"
program = "qualification"
title = "Организация образовательного процесса в соответствии с ФГОС"
description = "Курс для учителей"
hours = 72
price = 4900
format = "Онлайн"

[courses.attestation]
pass_percent = 70
max_attempts = 3
questions_per_attempt = 2

[[courses.groups]]
id = "pk-fgos-2026-12"
title = "Группа декабря"
starts_on = 2026-12-07
ends_on = 2026-12-25
test_opens_on = 2026-12-21
webinar_url = "https://events.webinar.ru/uchmet/1"

[[courses.groups.lessons]]
id = "pk-fgos-2026-12-l1"
starts_at = "2026-12-07 18:00"
duration_minutes = 90
topic = "Введение"
webinar_session_id = "1001"
materials = [{ title = "Конспект", url = "https://uchmet.ru/m/1.pdf" }]

[[courses.groups.lessons]]
id = "pk-fgos-2026-12-l2"
starts_at = "2026-12-10 18:00"
duration_minutes = 90
topic = "Результаты"

[[courses.questions]]
id = "pk-fgos-q1"
text = "Что такое ФГОС?"
kind = "single"
options = ["Стандарт", "Программа", "Закон"]
correct = [1]

[[courses.questions]]
id = "pk-fgos-q2"
text = "Какие результаты выделяет ФГОС?"
kind = "multiple"
options = ["Личностные", "Предметные", "Наградные"]
correct = [1, 2]
"#;

/// A directory holding offer.md, for catalogs parsed from text.
struct Dir {
    _temp: tempfile::TempDir,
    path: PathBuf,
}

fn dir_with_offer() -> Dir {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(
        temp.path().join("offer.md"),
        "Договор-оферта\nВерсия 2026-11-01\n",
    )
    .unwrap();
    let path = temp.path().to_path_buf();
    Dir { _temp: temp, path }
}

fn parse(text: &str) -> Result<Catalog, CatalogError> {
    let dir = dir_with_offer();
    parse_catalog(text, "dialogues/catalog.toml", &dir.path)
}

/// The error message after replacing `from` (which must occur once) by `to` in BASE.
fn error_after(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} must occur once");
    let text = BASE.replacen(from, to, 1);
    match parse(&text) {
        Ok(_) => panic!("accepted after replacing {from:?} with {to:?}"),
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            message
        }
    }
}

#[test]
fn base_fixture_is_valid() {
    let catalog = parse(BASE).unwrap_or_else(|e| panic!("{e}"));
    let course = &catalog.courses[0];
    assert_eq!(course.groups[0].lessons.len(), 2);
    assert_eq!(course.attestation.questions[1].correct, vec![0, 1]);
    assert_eq!(course.groups[0].lessons[0].materials[0].title, "Конспект");
}

#[test]
fn end_date_before_start_date() {
    assert_eq!(
        error_after("ends_on = 2026-12-25", "ends_on = 2026-11-30"),
        "dialogues/catalog.toml:27: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         field \"ends_on\": the end date 2026-11-30 is before the start date 2026-12-07"
    );
}

#[test]
fn unknown_keys_are_named() {
    assert_eq!(
        error_after("hours = 72\n", "hours = 72\nhourz = 80\n"),
        "dialogues/catalog.toml:15: course \"pk-fgos\", field \"hourz\": unknown field; \
         expected one of `id`, `program`, `title`, `description`, `hours`, `price`, `format`, \
         `document`, `offer`, `attestation`, `groups`, `questions`"
    );
    assert_eq!(
        error_after(
            "url = \"https://uchmet.ru/m/1.pdf\"",
            "link = \"https://uchmet.ru/m/1.pdf\""
        ),
        "dialogues/catalog.toml:37: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l1\", field \"materials[1].link\": unknown field; \
         expected `title` or `url`"
    );
    assert_eq!(
        error_after("max_attempts = 3\n", "max_attempts = 3\npause = 10\n"),
        "dialogues/catalog.toml:21: course \"pk-fgos\", field \"attestation.pause\": \
         unknown field; expected one of `pass_percent`, `max_attempts`, `pause_minutes`, \
         `time_limit_minutes`, `questions_per_attempt`"
    );
    assert_eq!(
        error_after(
            "timezone = \"Europe/Moscow\"\n",
            "timezone = \"Europe/Moscow\"\nschool = \"x\"\n"
        ),
        "dialogues/catalog.toml:2: field \"school\": unknown field; \
         expected one of `timezone`, `offer`, `courses`"
    );
}

#[test]
fn missing_fields_are_named_at_their_entry() {
    assert_eq!(
        error_after("title = \"Группа декабря\"\n", ""),
        "dialogues/catalog.toml:23: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         field \"title\": this field is required but missing"
    );
    assert_eq!(
        error_after("max_attempts = 3\n", ""),
        "dialogues/catalog.toml:18: course \"pk-fgos\", field \"attestation.max_attempts\": \
         this field is required but missing"
    );
    assert_eq!(
        error_after("kind = \"multiple\"\n", ""),
        "dialogues/catalog.toml:52: course \"pk-fgos\", question \"pk-fgos-q2\", \
         field \"kind\": this field is required but missing"
    );
}

#[test]
fn wrong_types_are_explained_in_toml_terms() {
    assert_eq!(
        error_after("hours = 72", "hours = \"72\""),
        "dialogues/catalog.toml:14: course \"pk-fgos\", field \"hours\": \
         expected a whole number, found string \"72\""
    );
    assert_eq!(
        error_after("correct = [1]\n", "correct = 1\n"),
        "dialogues/catalog.toml:50: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"correct\": expected a list in [brackets], found integer `1`"
    );
    assert_eq!(
        error_after("program = \"qualification\"", "program = \"qualificaton\""),
        "dialogues/catalog.toml:11: course \"pk-fgos\", field \"program\": unknown variant \
         `qualificaton`, expected one of `qualification`, `retraining`, `vocational`"
    );
    assert_eq!(
        error_after("kind = \"single\"", "kind = \"one\""),
        "dialogues/catalog.toml:48: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"kind\": unknown variant `one`, expected `single` or `multiple`"
    );
}

#[test]
fn syntax_errors_give_the_line() {
    assert_eq!(
        error_after("hours = 72", "hours = "),
        "dialogues/catalog.toml:14: TOML syntax error: invalid string; expected `\"`, `'`"
    );
}

#[test]
fn ids_must_be_short_latin_and_unique() {
    assert_eq!(
        error_after("id = \"pk-fgos\"", "id = \"PK FGOS\""),
        "dialogues/catalog.toml:10: course \"PK FGOS\", field \"id\": the id \"PK FGOS\" \
         must be 1 to 40 characters of a-z, 0-9 and \"-\""
    );
    let long = "a".repeat(41);
    assert_eq!(
        error_after("id = \"pk-fgos\"", &format!("id = \"{long}\"")),
        format!(
            "dialogues/catalog.toml:10: course \"{long}\", field \"id\": the id \"{long}\" \
             must be 1 to 40 characters of a-z, 0-9 and \"-\""
        )
    );
    assert_eq!(
        error_after("id = \"pk-fgos-q2\"", "id = \"pk-fgos-q1\""),
        "dialogues/catalog.toml:53: course \"pk-fgos\", question \"pk-fgos-q1\", field \"id\": \
         the question id \"pk-fgos-q1\" is already used at line 46"
    );
    assert_eq!(
        error_after("id = \"pk-fgos-2026-12-l2\"", "id = \"pk-fgos-2026-12-l1\""),
        "dialogues/catalog.toml:40: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l1\", field \"id\": the lesson id \"pk-fgos-2026-12-l1\" \
         is already used at line 32"
    );
}

#[test]
fn group_ids_are_unique_across_courses() {
    let second_course = BASE
        .split("[[courses]]")
        .nth(1)
        .unwrap()
        .replace("id = \"pk-fgos\"", "id = \"pk-fgos-2\"")
        .replace("pk-fgos-2026-12-l", "pk-fgos-2-l")
        .replace("pk-fgos-q", "pk-fgos-2-q");
    let text = format!("{BASE}\n[[courses]]{second_course}");
    let error = parse(&text).unwrap_err();
    assert_eq!(error.entries[0].id.as_deref(), Some("pk-fgos-2"));
    assert_eq!(error.entries[1].kind, EntryKind::Group);
    assert_eq!(error.field.as_deref(), Some("id"));
    assert_eq!(error.line, Some(59 + (24 - 9)));
    assert_eq!(
        error.reason,
        "the group id \"pk-fgos-2026-12\" is already used at line 24"
    );
}

#[test]
fn dates_must_be_consistent() {
    assert_eq!(
        error_after("test_opens_on = 2026-12-21", "test_opens_on = 2026-12-28"),
        "dialogues/catalog.toml:28: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         field \"test_opens_on\": the test opens on 2026-12-28, outside the group's dates \
         2026-12-07 to 2026-12-25"
    );
    assert_eq!(
        error_after(
            "starts_at = \"2026-12-10 18:00\"",
            "starts_at = \"2026-12-26 18:00\""
        ),
        "dialogues/catalog.toml:41: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l2\", field \"starts_at\": the lesson on 2026-12-26 18:00 \
         is outside the group's dates 2026-12-07 to 2026-12-25"
    );
    assert_eq!(
        error_after(
            "starts_at = \"2026-12-10 18:00\"",
            "starts_at = \"2026-12-07 19:00\""
        ),
        "dialogues/catalog.toml:41: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l2\", field \"starts_at\": the lesson starts before the \
         lesson \"pk-fgos-2026-12-l1\" ends at 2026-12-07 19:30"
    );
    assert_eq!(
        error_after(
            "starts_at = \"2026-12-10 18:00\"",
            "starts_at = \"10.12.2026 18:00\""
        ),
        "dialogues/catalog.toml:41: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l2\", field \"starts_at\": \"10.12.2026 18:00\" is not a \
         date and time; expected a local date and time such as \"2026-12-07 18:00\""
    );
    assert_eq!(
        error_after("starts_on = 2026-12-07", "starts_on = \"7 декабря\""),
        "dialogues/catalog.toml:26: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         field \"starts_on\": \"7 декабря\" is not a date; expected a date such as 2026-12-07"
    );
}

#[test]
fn numbers_must_be_in_range() {
    assert_eq!(
        error_after("hours = 72", "hours = 0"),
        "dialogues/catalog.toml:14: course \"pk-fgos\", field \"hours\": \
         must be 1 to 10000, found 0"
    );
    assert_eq!(
        error_after("price = 4900", "price = -100"),
        "dialogues/catalog.toml:15: course \"pk-fgos\", field \"price\": \
         the price cannot be negative, found -100"
    );
    assert_eq!(
        error_after("price = 4900", "price = 4900.5"),
        "dialogues/catalog.toml:15: course \"pk-fgos\", field \"price\": a price with a \
         decimal point must be quoted; write whole roubles (4900) or a text with kopecks \
         (\"4900.50\")"
    );
    assert_eq!(
        error_after("price = 4900", "price = \"4900.505\""),
        "dialogues/catalog.toml:15: course \"pk-fgos\", field \"price\": \"4900.505\" is not \
         a price; write whole roubles (4900) or a text with kopecks (\"4900.50\")"
    );
    assert_eq!(
        error_after("pass_percent = 70", "pass_percent = 101"),
        "dialogues/catalog.toml:19: course \"pk-fgos\", field \"attestation.pass_percent\": \
         must be 1 to 100, found 101"
    );
    assert_eq!(
        error_after("questions_per_attempt = 2", "questions_per_attempt = 5"),
        "dialogues/catalog.toml:21: course \"pk-fgos\", field \
         \"attestation.questions_per_attempt\": an attempt cannot draw 5 questions: the course \
         has only 2"
    );
    assert_eq!(
        error_after(
            "duration_minutes = 90\ntopic = \"Введение\"",
            "duration_minutes = 0\ntopic = \"Введение\""
        ),
        "dialogues/catalog.toml:34: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l1\", field \"duration_minutes\": must be 1 to 720, found 0"
    );
}

#[test]
fn prices_accept_roubles_and_kopecks() {
    for (written, kopecks) in [
        ("4900", 490_000),
        ("0", 0),
        ("\"4900.50\"", 490_050),
        ("\"4900.5\"", 490_050),
        ("\"4 900,50\"", 490_050),
        ("\"12500\"", 1_250_000),
    ] {
        let text = BASE.replacen("price = 4900", &format!("price = {written}"), 1);
        let catalog = parse(&text).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(catalog.courses[0].price, Money(kopecks), "{written}");
    }
}

#[test]
fn questions_must_be_answerable() {
    assert_eq!(
        error_after(
            "options = [\"Стандарт\", \"Программа\", \"Закон\"]",
            "options = [\"Стандарт\"]"
        ),
        "dialogues/catalog.toml:49: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"options\": a question needs at least 2 options, found 1"
    );
    assert_eq!(
        error_after("correct = [1]\n", "correct = [4]\n"),
        "dialogues/catalog.toml:50: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"correct\": there is no option 4: the options are numbered 1 to 3"
    );
    assert_eq!(
        error_after("correct = [1]\n", "correct = [0]\n"),
        "dialogues/catalog.toml:50: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"correct\": there is no option 0: the options are numbered 1 to 3"
    );
    assert_eq!(
        error_after("correct = [1]\n", "correct = [1, 2]\n"),
        "dialogues/catalog.toml:50: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"correct\": a single-choice question has exactly one right option, found 2; \
         keep one or set kind = \"multiple\""
    );
    assert_eq!(
        error_after("correct = [1]\n", "correct = []\n"),
        "dialogues/catalog.toml:50: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"correct\": list the number of the right option (counting from 1), e.g. \
         correct = [2]"
    );
    assert_eq!(
        error_after("correct = [1, 2]", "correct = [2, 2]"),
        "dialogues/catalog.toml:57: course \"pk-fgos\", question \"pk-fgos-q2\", \
         field \"correct\": option 2 is listed twice"
    );
    assert_eq!(
        error_after("\"Программа\", \"Закон\"", "\"Программа\", \"Стандарт\""),
        "dialogues/catalog.toml:49: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"options[3]\": option 3 repeats option 1"
    );
    assert_eq!(
        error_after("text = \"Что такое ФГОС?\"", "text = \"  \""),
        "dialogues/catalog.toml:47: course \"pk-fgos\", question \"pk-fgos-q1\", \
         field \"text\": must not be empty"
    );
}

#[test]
fn a_course_needs_questions() {
    let without_questions = &BASE[..BASE.find("[[courses.questions]]").unwrap()];
    let error = parse(without_questions).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dialogues/catalog.toml:9: course \"pk-fgos\", field \"questions\": the course has no \
         questions for the final test: add [[courses.questions]] entries"
    );
}

#[test]
fn links_must_be_http() {
    assert_eq!(
        error_after(
            "webinar_url = \"https://events.webinar.ru/uchmet/1\"",
            "webinar_url = \"events.webinar.ru/uchmet/1\""
        ),
        "dialogues/catalog.toml:29: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         field \"webinar_url\": \"events.webinar.ru/uchmet/1\" is not an http(s) link"
    );
    assert_eq!(
        error_after("https://uchmet.ru/m/1.pdf", "ftp://uchmet.ru/m/1.pdf"),
        "dialogues/catalog.toml:37: course \"pk-fgos\", group \"pk-fgos-2026-12\", \
         lesson \"pk-fgos-2026-12-l1\", field \"materials[1].url\": \
         \"ftp://uchmet.ru/m/1.pdf\" is not an http(s) link"
    );
    assert_eq!(
        error_after(
            "url = \"https://uchmet.ru/oferta\"",
            "url = \"uchmet.ru/oferta\""
        ),
        "dialogues/catalog.toml:6: field \"offer.url\": \"uchmet.ru/oferta\" is not an \
         http(s) link"
    );
}

#[test]
fn document_follows_the_program() {
    assert_eq!(
        error_after(
            "format = \"Онлайн\"\n",
            "format = \"Онлайн\"\ndocument = \"diploma\"\n"
        ),
        "dialogues/catalog.toml:17: course \"pk-fgos\", field \"document\": a qualification \
         program issues the document \"certificate\" (273-ФЗ, ст. 60), not \"diploma\"; remove \
         the field or set it to \"certificate\""
    );
    let explicit = BASE.replacen(
        "format = \"Онлайн\"\n",
        "format = \"Онлайн\"\ndocument = \"certificate\"\n",
        1,
    );
    assert_eq!(
        parse(&explicit).unwrap().courses[0].document,
        DocumentKind::Certificate
    );
}

#[test]
fn time_zone_of_the_file_applies_to_lessons() {
    let text = BASE.replacen("Europe/Moscow", "Asia/Vladivostok", 1);
    let catalog = parse(&text).unwrap();
    // 18:00 in Vladivostok (UTC+10) is 08:00 UTC.
    assert_eq!(
        catalog.courses[0].groups[0].lessons[0].starts_at,
        Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
    );
    assert_eq!(
        error_after(
            "timezone = \"Europe/Moscow\"",
            "timezone = \"Europe/Moskow\""
        ),
        "dialogues/catalog.toml:1: field \"timezone\": unknown time zone \"Europe/Moskow\"; \
         use a name such as \"Europe/Moscow\""
    );
}

#[test]
fn offers_are_read_relative_to_the_catalog_file() {
    let error = error_after("file = \"offer.md\"", "file = \"oferta.md\"");
    assert!(
        error.starts_with(
            "dialogues/catalog.toml:7: field \"offer.file\": cannot read the offer document "
        ),
        "{error}"
    );
    assert!(
        error.ends_with("oferta.md: No such file or directory (os error 2)"),
        "{error}"
    );

    // Without a school offer every course needs its own.
    let start = BASE.find("[offer]").unwrap();
    let end = BASE.find("[[courses]]").unwrap();
    let no_school_offer = format!("{}{}", &BASE[..start], &BASE[end..]);
    assert_eq!(
        parse(&no_school_offer).unwrap_err().to_string(),
        "dialogues/catalog.toml:3: course \"pk-fgos\", field \"offer\": the course has no \
         offer: add [offer] at the top of the file or [courses.offer] to the course"
    );
    let course_offer = no_school_offer.replacen(
        "[courses.attestation]",
        "[courses.offer]\ntitle = \"Оферта курса\"\nversion = \"1\"\nurl = \"https://uchmet.ru/o\"\nfile = \"offer.md\"\n\n[courses.attestation]",
        1,
    );
    let catalog = parse(&course_offer).unwrap_or_else(|e| panic!("{e}"));
    let course = &catalog.courses[0];
    assert!(catalog.school_offer.is_none());
    assert_eq!(catalog.offer_for(course).unwrap().title, "Оферта курса");
}

#[test]
fn load_catalog_reads_the_file_and_its_offer_beside_it() {
    let dir = dir_with_offer();
    let path = dir.path.join("catalog.toml");
    std::fs::write(&path, BASE).unwrap();
    let catalog = load_catalog(&path).unwrap_or_else(|e| panic!("{e}"));
    let expected = hex::encode(Sha256::digest("Договор-оферта\nВерсия 2026-11-01\n"));
    assert_eq!(catalog.school_offer.unwrap().sha256, expected);

    let missing = dir.path.join("nope.toml");
    let error = load_catalog(&missing).unwrap_err();
    assert_eq!(error.line, None);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: cannot read the catalog file: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn an_empty_catalog_is_refused() {
    let error = parse("timezone = \"Europe/Moscow\"\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "dialogues/catalog.toml: the catalog has no courses: add a [[courses]] entry"
    );
}

// --- Random damage -----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Damage {
    DeleteChars { at: usize, len: usize },
    InsertText { at: usize, text: String },
    DuplicateLine { line: usize },
    DeleteLine { line: usize },
    SwapLines { a: usize, b: usize },
    ReplaceDigit { nth: usize, digit: char },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Damage::DeleteChars { at, len }),
        (any::<usize>(), "[\\[\\]{}=\"',.#\\n a-z0-9_-]{1,12}")
            .prop_map(|(at, text)| Damage::InsertText { at, text }),
        any::<usize>().prop_map(|line| Damage::DuplicateLine { line }),
        any::<usize>().prop_map(|line| Damage::DeleteLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::SwapLines { a, b }),
        (any::<usize>(), proptest::char::range('0', '9'))
            .prop_map(|(nth, digit)| Damage::ReplaceDigit { nth, digit }),
    ]
}

fn apply(text: &str, damage: &Damage) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<&str> = text.lines().collect();
    match damage {
        Damage::DeleteChars { at, len } => {
            let at = at % chars.len();
            let end = (at + len).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Damage::InsertText { at, text } => {
            let at = at % chars.len();
            chars[..at]
                .iter()
                .chain(text.chars().collect::<Vec<_>>().iter())
                .chain(&chars[at..])
                .collect()
        }
        Damage::DuplicateLine { line } => {
            let i = line % lines.len();
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        Damage::DeleteLine { line } => {
            lines.remove(line % lines.len());
            lines.join("\n")
        }
        Damage::SwapLines { a, b } => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.join("\n")
        }
        Damage::ReplaceDigit { nth, digit } => {
            let digits: Vec<usize> = chars
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            let mut chars = chars.clone();
            chars[digits[nth % digits.len()]] = *digit;
            chars.into_iter().collect()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn damaged_example_never_panics_and_errors_stay_one_line(
        damages in proptest::collection::vec(damage(), 1..4),
    ) {
        let original = std::fs::read_to_string(EXAMPLE).unwrap();
        let text = damages.iter().fold(original, |text, d| apply(&text, d));
        let line_count = text.lines().count() + 1;
        if let Err(error) = parse_catalog(&text, "catalog.toml", Path::new("dialogues")) {
            let message = error.to_string();
            prop_assert!(!message.contains('\n'), "{}", message);
            prop_assert!(message.starts_with("catalog.toml"), "{}", message);
            if let Some(line) = error.line {
                prop_assert!((1..=line_count).contains(&line), "{} of {}", line, line_count);
            }
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_catalog(&text, "catalog.toml", Path::new("dialogues"));
    }
}
