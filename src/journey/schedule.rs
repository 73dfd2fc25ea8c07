//! Studying: the schedule in the learner's time zone («Расписание»), the materials of past
//! lessons («Пройти обучение»), and the two notices the scheduler sends — the webinar
//! reminder and «Материалы и запись занятия».
use chrono::{DateTime, Datelike, Offset, Timelike, Utc};
use chrono_tz::Tz;

use super::action::Action;
use super::browse::date_range;
use super::reply::{Button, Reply};
use super::{stale, Command, Ctx, Dialogue, Event, Outcome};
use crate::domain::catalog::{Catalog, Course, Group, Lesson};
use crate::texts::{Html, Texts};
use crate::tr;

/// The time zones learners choose from: Russia spans UTC+2 to UTC+12. One city per offset;
/// none of them observes daylight saving time.
pub const ZONES: [(u8, &str); 11] = [
    (2, "Europe/Kaliningrad"),
    (3, "Europe/Moscow"),
    (4, "Europe/Samara"),
    (5, "Asia/Yekaterinburg"),
    (6, "Asia/Omsk"),
    (7, "Asia/Novosibirsk"),
    (8, "Asia/Irkutsk"),
    (9, "Asia/Yakutsk"),
    (10, "Asia/Vladivostok"),
    (11, "Asia/Magadan"),
    (12, "Asia/Kamchatka"),
];

/// Telegram's limit is 4096 characters; long schedules are split below it.
const MESSAGE_LIMIT: usize = 3500;
/// Buttons for single past lessons under the schedule (the rest are under «Пройти обучение»).
const LESSON_BUTTONS: usize = 4;

pub fn zone_for_offset(offset: u8) -> Option<Tz> {
    ZONES
        .iter()
        .find(|(o, _)| *o == offset)
        .and_then(|(_, name)| name.parse().ok())
}

/// The learner's zone; the school's until they choose one.
pub fn learner_tz(ctx: &Ctx) -> Tz {
    ctx.learner.timezone.unwrap_or(ctx.school.tz)
}

fn offset_seconds(tz: Tz, at: DateTime<Utc>) -> i32 {
    at.with_timezone(&tz).offset().fix().local_minus_utc()
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    match minutes % 60 {
        0 => format!("{sign}{}", minutes / 60),
        m => format!("{sign}{}:{m:02}", minutes / 60),
    }
}

/// «Екатеринбург (UTC+5)»; a zone outside the list by its name.
pub fn zone_label(t: &Texts, tz: Tz, at: DateTime<Utc>) -> String {
    match ZONES.iter().find(|(_, name)| *name == tz.name()) {
        Some((offset, _)) => tr!(t, "tz-zone", offset = u32::from(*offset)),
        None => tr!(
            t,
            "tz-zone-other",
            name = tz.name(),
            offset = offset_text(offset_seconds(tz, at))
        ),
    }
}

/// «мск», or «UTC+5» for a school elsewhere.
fn zone_short(t: &Texts, tz: Tz, at: DateTime<Utc>) -> String {
    let moscow = if tz == chrono_tz::Europe::Moscow {
        "yes"
    } else {
        "no"
    };
    tr!(
        t,
        "tz-short",
        moscow = moscow,
        offset = offset_text(offset_seconds(tz, at))
    )
}

fn hh_mm(at: DateTime<Tz>) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// «26 ноября»
fn day_month(t: &Texts, at: DateTime<Tz>) -> String {
    tr!(t, "date-short", day = at.day(), month = at.month())
}

/// «чт, 26 ноября, 20:00», with the school's time beside it when the learner's differs:
/// «чт, 26 ноября, 20:00 (18:00 мск)»; the school's weekday too when the day differs.
pub fn when(ctx: &Ctx, tz: Tz, at: DateTime<Utc>) -> String {
    let t = ctx.texts;
    let local = at.with_timezone(&tz);
    let text = tr!(
        t,
        "lesson-when",
        weekday = local.weekday().number_from_monday(),
        date = day_month(t, local),
        time = hh_mm(local)
    );
    let school = ctx.school.tz;
    if offset_seconds(tz, at) == offset_seconds(school, at) {
        return text;
    }
    let there = at.with_timezone(&school);
    let school_time = if there.date_naive() == local.date_naive() {
        hh_mm(there)
    } else {
        tr!(
            t,
            "lesson-when-weekday",
            weekday = there.weekday().number_from_monday(),
            time = hh_mm(there)
        )
    };
    tr!(
        t,
        "time-with-school",
        when = text,
        school_time = school_time,
        zone = zone_short(t, school, at)
    )
}

/// The lesson with this id, with its course and group.
pub fn find_lesson<'a>(
    catalog: &'a Catalog,
    lesson_id: &str,
) -> Option<(&'a Course, &'a Group, &'a Lesson)> {
    catalog.courses.iter().find_map(|c| {
        c.groups.iter().find_map(|g| {
            g.lessons
                .iter()
                .find(|l| l.id == lesson_id)
                .map(|l| (c, g, l))
        })
    })
}

/// The groups the learner is enrolled in (application submitted), in enrollment order.
fn enrolled_groups<'a>(ctx: &Ctx<'a>) -> Vec<(&'a Course, &'a Group)> {
    ctx.learner
        .enrollments
        .iter()
        .filter(|e| e.enrolled)
        .filter_map(|e| ctx.catalog.group(&e.group_id))
        .collect()
}

fn is_enrolled_in(ctx: &Ctx, group_id: &str) -> bool {
    ctx.learner
        .enrollments
        .iter()
        .any(|e| e.enrolled && e.group_id == group_id)
}

/// «📅 Расписание» and «🎓 Пройти обучение», for enrolled learners (also under /status).
pub fn studying_buttons(ctx: &Ctx) -> Vec<Button> {
    vec![
        Button::action(tr!(ctx.texts, "btn-schedule"), Action::Schedule),
        Button::action(tr!(ctx.texts, "btn-materials"), Action::Materials),
    ]
}

/// Why there is nothing to show yet.
fn not_enrolled(ctx: &Ctx) -> Reply {
    let t = ctx.texts;
    if ctx.learner.enrollments.is_empty() {
        Reply::text(tr!(t, "schedule-no-courses"))
            .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog))
    } else {
        Reply::text(tr!(t, "schedule-not-enrolled"))
            .button(Button::action(tr!(t, "btn-status"), Action::Status))
    }
}

/// The question about the time zone, with a button per Russian zone.
pub fn zone_question(ctx: &Ctx) -> Reply {
    let t = ctx.texts;
    let mut reply = Reply::text(tr!(t, "schedule-ask-tz"));
    for pair in ZONES.chunks(2) {
        reply = reply.row(
            pair.iter()
                .map(|(offset, _)| {
                    Button::action(
                        tr!(t, "tz-zone", offset = u32::from(*offset)),
                        Action::TimeZone(*offset),
                    )
                })
                .collect(),
        );
    }
    reply
}

/// `/schedule`: asks the zone the first time, then shows the schedule.
pub fn open(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    if enrolled_groups(ctx).is_empty() {
        return Outcome::stay(dialogue).say(not_enrolled(ctx));
    }
    if ctx.learner.timezone.is_none() {
        return Outcome::stay(dialogue).say(zone_question(ctx));
    }
    say_all(Outcome::stay(dialogue), schedule(ctx, learner_tz(ctx)))
}

/// A zone button: the choice is kept and the schedule shown in it.
pub fn choose_zone(ctx: &Ctx, dialogue: Dialogue, offset: u8) -> Outcome {
    let Some(tz) = zone_for_offset(offset) else {
        return stale(ctx, dialogue);
    };
    let t = ctx.texts;
    let outcome = Outcome::stay(dialogue)
        .run(Command::SetTimezone {
            tz: tz.name().to_owned(),
        })
        .toast(tr!(t, "tz-saved", zone = zone_label(t, tz, ctx.now)));
    if enrolled_groups(ctx).is_empty() {
        return outcome.edit(not_enrolled(ctx));
    }
    let mut replies = schedule(ctx, tz).into_iter();
    let first = replies.next().expect("a schedule has a message");
    say_all(outcome.edit(first), replies.collect())
}

pub fn ask_zone(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    Outcome::stay(dialogue).edit(zone_question(ctx))
}

fn say_all(mut outcome: Outcome, replies: Vec<Reply>) -> Outcome {
    for reply in replies {
        outcome = outcome.say(reply);
    }
    outcome
}

/// Packs blocks into messages below the limit; a block that is too long alone is split by
/// lines. Blocks are separated by an empty line.
fn pack(blocks: Vec<String>) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut push = |piece: &str, sep: &str, current: &mut String| {
        if !current.is_empty() && current.len() + sep.len() + piece.len() > MESSAGE_LIMIT {
            messages.push(std::mem::take(current));
        }
        if !current.is_empty() {
            current.push_str(sep);
        }
        current.push_str(piece);
    };
    for block in blocks {
        if block.len() <= MESSAGE_LIMIT {
            push(&block, "\n\n", &mut current);
        } else {
            for (i, line) in block.lines().enumerate() {
                push(line, if i == 0 { "\n\n" } else { "\n" }, &mut current);
            }
        }
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
}

/// The schedule of every group the learner is enrolled in, in `tz`.
pub fn schedule(ctx: &Ctx, tz: Tz) -> Vec<Reply> {
    let t = ctx.texts;
    let now = ctx.now;
    let same = offset_seconds(tz, now) == offset_seconds(ctx.school.tz, now);
    let note = if same {
        tr!(t, "schedule-zone-same", zone = zone_label(t, tz, now))
    } else {
        tr!(
            t,
            "schedule-zone-other",
            zone = zone_label(t, tz, now),
            school_zone = zone_label(t, ctx.school.tz, now)
        )
    };
    let mut blocks = vec![tr!(t, "schedule-header", note = note)];
    let mut past: Vec<&Lesson> = Vec::new();
    for (course, group) in enrolled_groups(ctx) {
        let mut lines = vec![tr!(
            t,
            "schedule-group",
            course = &course.title,
            group = &group.title,
            dates = date_range(t, group.starts_on, group.ends_on)
        )];
        let next = group.lessons.iter().position(|l| l.ends_at() > now);
        for (i, lesson) in group.lessons.iter().enumerate() {
            let when = when(ctx, tz, lesson.starts_at);
            let topic = &lesson.topic;
            lines.push(if lesson.ends_at() <= now {
                past.push(lesson);
                tr!(t, "schedule-lesson-past", when = Html(when), topic = topic)
            } else if Some(i) == next {
                tr!(t, "schedule-lesson-next", when = Html(when), topic = topic)
            } else {
                tr!(
                    t,
                    "schedule-lesson-future",
                    when = Html(when),
                    topic = topic
                )
            });
        }
        if group.lessons.is_empty() {
            lines.push(tr!(t, "schedule-no-lessons"));
        }
        blocks.push(lines.join("\n"));
    }
    if !past.is_empty() {
        blocks.push(tr!(t, "schedule-materials-hint"));
    }
    let mut replies: Vec<Reply> = pack(blocks).into_iter().map(Reply::text).collect();
    let last = replies.pop().expect("at least the header");
    past.sort_by_key(|l| std::cmp::Reverse(l.starts_at));
    let mut last = past
        .iter()
        .take(LESSON_BUTTONS)
        .fold(last, |reply, lesson| {
            let label = tr!(
                t,
                "btn-lesson-materials",
                date = day_month(t, lesson.starts_at.with_timezone(&tz)),
                topic = short(&lesson.topic, 32)
            );
            reply.button(Button::action(
                label,
                Action::LessonMaterials(lesson.id.clone()),
            ))
        });
    last = last
        .button(Button::action(tr!(t, "btn-materials"), Action::Materials))
        .button(Button::action(
            tr!(t, "btn-change-tz", zone = zone_label(t, tz, now)),
            Action::ChangeTimeZone,
        ));
    replies.push(last);
    replies
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The links of one lesson: its materials, then the recording (or a note that it will come).
fn links(t: &Texts, lesson: &Lesson) -> String {
    let mut lines: Vec<String> = lesson
        .materials
        .iter()
        .map(|m| tr!(t, "materials-link", url = &m.url, title = &m.title))
        .collect();
    lines.push(match &lesson.recording_url {
        Some(url) => tr!(t, "materials-recording", url = url),
        None => tr!(t, "materials-no-recording"),
    });
    lines.join("\n")
}

/// «Материалы и запись занятия» for one lesson.
fn lesson_card(ctx: &Ctx, course: &Course, lesson: &Lesson) -> Reply {
    let t = ctx.texts;
    let tz = learner_tz(ctx);
    Reply::text(tr!(
        t,
        "lesson-materials",
        topic = &lesson.topic,
        when = Html(when(ctx, tz, lesson.starts_at)),
        course = &course.title,
        links = Html(links(t, lesson))
    ))
    .button(Button::action(tr!(t, "btn-materials"), Action::Materials))
}

/// A past lesson's materials, from a button under the schedule.
pub fn lesson_materials(ctx: &Ctx, dialogue: Dialogue, lesson_id: &str) -> Outcome {
    match find_lesson(ctx.catalog, lesson_id) {
        Some((course, group, lesson))
            if is_enrolled_in(ctx, &group.id) && lesson.ends_at() <= ctx.now =>
        {
            Outcome::stay(dialogue).say(lesson_card(ctx, course, lesson))
        }
        _ => stale(ctx, dialogue),
    }
}

/// `/materials` («Пройти обучение»): materials and recordings of every past lesson.
pub fn materials(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    let groups = enrolled_groups(ctx);
    if groups.is_empty() {
        return Outcome::stay(dialogue).say(not_enrolled(ctx));
    }
    let t = ctx.texts;
    let tz = learner_tz(ctx);
    let mut blocks = vec![tr!(t, "materials-header")];
    for (course, group) in groups {
        let mut block = vec![tr!(
            t,
            "materials-group",
            course = &course.title,
            group = &group.title
        )];
        let past: Vec<&Lesson> = group
            .lessons
            .iter()
            .filter(|l| l.ends_at() <= ctx.now)
            .collect();
        for lesson in &past {
            block.push(tr!(
                t,
                "materials-lesson",
                when = Html(when(ctx, tz, lesson.starts_at)),
                topic = &lesson.topic,
                links = Html(links(t, lesson))
            ));
        }
        if past.is_empty() {
            block.push(match group.lessons.first() {
                Some(first) => tr!(
                    t,
                    "materials-none-yet",
                    when = Html(when(ctx, tz, first.starts_at))
                ),
                None => tr!(t, "schedule-no-lessons"),
            });
        }
        blocks.push(block.join("\n\n"));
    }
    let mut replies: Vec<Reply> = pack(blocks).into_iter().map(Reply::text).collect();
    if let Some(last) = replies.pop() {
        replies.push(last.button(Button::action(tr!(t, "btn-schedule"), Action::Schedule)));
    }
    say_all(Outcome::stay(dialogue), replies)
}

/// The webinar reminder: topic, start in the learner's zone, the link as a button.
pub fn reminder(ctx: &Ctx, course: &Course, lesson: &Lesson, link: &str, personal: bool) -> Reply {
    let t = ctx.texts;
    let tz = learner_tz(ctx);
    let note = if personal {
        tr!(t, "reminder-note-personal")
    } else {
        tr!(t, "reminder-note-general")
    };
    let when = Html(when(ctx, tz, lesson.starts_at));
    let text = if ctx.now < lesson.starts_at {
        tr!(
            t,
            "lesson-reminder",
            topic = &lesson.topic,
            course = &course.title,
            when = when,
            note = note
        )
    } else {
        tr!(
            t,
            "lesson-reminder-started",
            topic = &lesson.topic,
            course = &course.title,
            when = when,
            note = note
        )
    };
    Reply::text(text).button(Button::url(tr!(t, "btn-join-webinar"), link))
}

/// The scheduler's notices. Each finishes its job in the same step; a learner who is not
/// (or no longer) enrolled in the lesson's group gets nothing.
pub fn on_event(ctx: &Ctx, dialogue: Dialogue, event: Event) -> Outcome {
    match event {
        Event::LessonReminder {
            job,
            lesson_id,
            link,
            personal,
        } => {
            let done = Outcome::stay(dialogue).run(Command::CompleteJob(job));
            match find_lesson(ctx.catalog, &lesson_id) {
                Some((course, group, lesson))
                    if is_enrolled_in(ctx, &group.id) && ctx.now < lesson.ends_at() =>
                {
                    done.say(reminder(ctx, course, lesson, &link, personal))
                }
                _ => done,
            }
        }
        Event::LessonEnded { job, lesson_id } => {
            let done = Outcome::stay(dialogue).run(Command::CompleteJob(job));
            match find_lesson(ctx.catalog, &lesson_id) {
                Some((course, group, lesson)) if is_enrolled_in(ctx, &group.id) => {
                    done.say(lesson_card(ctx, course, lesson))
                }
                _ => done,
            }
        }
        _ => Outcome::stay(dialogue),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::catalog::Link;
    use crate::journey::testkit::{buttons_of, paid_enrollment, registered, texts_of, World};
    use crate::journey::view::LearnerView;
    use crate::journey::{Input, JobRef};

    fn lesson(id: &str, start: DateTime<Utc>, topic: &str) -> Lesson {
        Lesson {
            id: id.into(),
            starts_at: start,
            duration_minutes: 90,
            topic: topic.into(),
            webinar_session_id: Some("1856300111".into()),
            materials: vec![Link {
                title: "Презентация занятия".into(),
                url: format!("https://example.org/{id}.pdf"),
            }],
            recording_url: Some(format!("https://example.org/{id}/record")),
        }
    }

    /// The test world (now: 25 Nov 2026, 10:00 UTC) with lessons in group fgos-dec: one
    /// past (23 Nov, 18:00 Moscow), one tomorrow (26 Nov, 18:00 Moscow), one later.
    fn world(learner: LearnerView) -> World {
        let mut w = World::new(learner);
        let moscow = |d, h| {
            chrono_tz::Europe::Moscow
                .with_ymd_and_hms(2026, 11, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let group = &mut w.catalog.courses[0].groups[0];
        group.lessons = vec![
            lesson("l1", moscow(23, 18), "Нормативная база"),
            lesson("l2", moscow(26, 18), "Системно-деятельностный подход"),
            lesson("l3", moscow(30, 18), "Планируемые результаты"),
        ];
        w.catalog.courses[0].groups[0].lessons[1].recording_url = None;
        w
    }

    fn enrolled(tz: Option<&str>) -> LearnerView {
        let mut learner = registered();
        let mut e = paid_enrollment();
        e.enrolled = true;
        learner.enrollments.push(e);
        learner.timezone = tz.map(|z| z.parse().unwrap());
        learner
    }

    fn job() -> JobRef {
        JobRef {
            id: 41,
            worker: "w1".into(),
        }
    }

    #[test]
    fn every_zone_button_round_trips_to_its_zone() {
        for (offset, name) in ZONES {
            let tz = zone_for_offset(offset).unwrap();
            assert_eq!(tz.name(), name);
            let at = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
            assert_eq!(offset_seconds(tz, at), i32::from(offset) * 3600, "{name}");
        }
        assert_eq!(zone_for_offset(1), None);
        assert_eq!(zone_for_offset(13), None);
    }

    #[test]
    fn the_zone_is_asked_once_then_the_schedule_is_shown_in_it() {
        let w = world(enrolled(None));
        let o = w.step(Dialogue::Idle, Input::Command(super::super::Cmd::Schedule));
        assert!(texts_of(&o).contains("часовом поясе"), "{}", texts_of(&o));
        let buttons = buttons_of(&o);
        assert_eq!(buttons.len(), 11);
        assert!(buttons.contains(&"Калининград (UTC+2)".to_owned()));
        assert!(buttons.contains(&"Камчатка (UTC+12)".to_owned()));

        let o = w.step(Dialogue::Idle, Input::Button(Action::TimeZone(5)));
        assert_eq!(
            o.commands().collect::<Vec<_>>(),
            vec![&Command::SetTimezone {
                tz: "Asia/Yekaterinburg".into()
            }]
        );
        let text = texts_of(&o);
        assert!(text.contains("чт, 26 ноября, 20:00 (18:00 мск)"), "{text}");
        assert!(text.contains("Екатеринбург (UTC+5)"), "{text}");
    }

    #[test]
    fn lesson_times_in_russian_zones_with_the_schools_time_beside() {
        // Lesson on Thursday 26 Nov 2026, 18:00 Moscow = 15:00 UTC.
        let cases = [
            ("Europe/Kaliningrad", "чт, 26 ноября, 17:00 (18:00 мск)"),
            ("Europe/Moscow", "чт, 26 ноября, 18:00"),
            ("Asia/Yekaterinburg", "чт, 26 ноября, 20:00 (18:00 мск)"),
            ("Asia/Vladivostok", "пт, 27 ноября, 01:00 (чт, 18:00 мск)"),
            ("Asia/Kamchatka", "пт, 27 ноября, 03:00 (чт, 18:00 мск)"),
        ];
        for (zone, expected) in cases {
            let w = world(enrolled(Some(zone)));
            let o = w.step(Dialogue::Idle, Input::Button(Action::Schedule));
            let text = texts_of(&o);
            assert!(text.contains(expected), "{zone}: {text}");
            if zone == "Europe/Moscow" {
                assert!(!text.contains("мск)"), "no school time beside: {text}");
            }
        }
    }

    #[test]
    fn past_lessons_link_to_their_materials_and_the_next_is_marked() {
        let w = world(enrolled(Some("Europe/Moscow")));
        let o = w.step(Dialogue::Idle, Input::Button(Action::Schedule));
        let text = texts_of(&o);
        assert!(
            text.contains("✅ пн, 23 ноября, 18:00 — Нормативная база"),
            "{text}"
        );
        assert!(
            text.contains("▶️ чт, 26 ноября, 18:00 — Системно-деятельностный подход"),
            "{text}"
        );
        let buttons = buttons_of(&o);
        assert!(
            buttons.contains(&"📎 23 ноября · Нормативная база".to_owned()),
            "{buttons:?}"
        );
        assert!(!buttons.iter().any(|b| b.contains("26 ноября")));

        let o = w.step(
            Dialogue::Idle,
            Input::Button(Action::LessonMaterials("l1".into())),
        );
        let text = texts_of(&o);
        assert!(text.contains("Материалы и запись занятия"), "{text}");
        assert!(text.contains("Презентация занятия"), "{text}");
        // A lesson that has not happened, or of another group, has no materials yet.
        for id in ["l2", "nope"] {
            let o = w.step(
                Dialogue::Idle,
                Input::Button(Action::LessonMaterials(id.into())),
            );
            assert!(o.replies().next().is_none(), "{id}");
        }
    }

    #[test]
    fn materials_list_only_past_lessons_with_links() {
        let w = world(enrolled(Some("Europe/Moscow")));
        let o = w.step(Dialogue::Idle, Input::Command(super::super::Cmd::Materials));
        let html: String = o.replies().map(|r| r.text.clone()).collect();
        assert!(html.contains("Нормативная база"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org/l1.pdf">Презентация занятия</a>"#));
        assert!(html.contains(r#"<a href="https://example.org/l1/record">"#));
        assert!(!html.contains("Планируемые результаты"), "{html}");
    }

    #[test]
    fn nothing_to_show_before_enrollment() {
        let mut learner = registered();
        learner.enrollments.push(paid_enrollment());
        let w = world(learner);
        for input in [
            Input::Command(super::super::Cmd::Schedule),
            Input::Command(super::super::Cmd::Materials),
        ] {
            let o = w.step(Dialogue::Idle, input);
            assert!(
                texts_of(&o).contains("после зачисления"),
                "{}",
                texts_of(&o)
            );
        }
    }

    #[test]
    fn the_reminder_carries_the_link_and_finishes_its_job() {
        let w = world(enrolled(Some("Asia/Yekaterinburg")));
        let o = w.step(
            Dialogue::Idle,
            Input::Event(Event::LessonReminder {
                job: job(),
                lesson_id: "l2".into(),
                link: "https://my.mts-link.ru/j/1/2/abc".into(),
                personal: true,
            }),
        );
        assert_eq!(o.commands().next(), Some(&Command::CompleteJob(job())));
        let reply = o.replies().next().expect("a reminder");
        let text = crate::journey::reply::plain_text(&reply.text);
        assert!(text.contains("Системно-деятельностный подход"), "{text}");
        assert!(text.contains("чт, 26 ноября, 20:00 (18:00 мск)"), "{text}");
        assert!(text.contains("только во время вебинара"), "{text}");
        assert!(text.contains("личная"), "{text}");
        assert_eq!(
            reply.buttons,
            vec![vec![Button::url(
                "▶️ Войти на вебинар",
                "https://my.mts-link.ru/j/1/2/abc"
            )]]
        );
    }

    #[test]
    fn a_reminder_for_someone_not_enrolled_only_finishes_the_job() {
        let mut learner = registered();
        learner.enrollments.push(paid_enrollment());
        let w = world(learner);
        let o = w.step(
            Dialogue::Idle,
            Input::Event(Event::LessonReminder {
                job: job(),
                lesson_id: "l2".into(),
                link: "https://events.example.org/room".into(),
                personal: false,
            }),
        );
        assert_eq!(o.commands().next(), Some(&Command::CompleteJob(job())));
        assert!(o.replies().next().is_none());
    }

    #[test]
    fn the_materials_notice_names_the_lesson_and_its_links() {
        let w = world(enrolled(None));
        let o = w.step(
            Dialogue::Idle,
            Input::Event(Event::LessonEnded {
                job: job(),
                lesson_id: "l1".into(),
            }),
        );
        assert_eq!(o.commands().next(), Some(&Command::CompleteJob(job())));
        let text = texts_of(&o);
        assert!(text.contains("Материалы и запись занятия"), "{text}");
        assert!(text.contains("Нормативная база"), "{text}");
    }

    #[test]
    fn long_schedules_are_split_below_telegrams_limit() {
        let mut w = world(enrolled(Some("Europe/Moscow")));
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        w.catalog.courses[0].groups[0].lessons = (0..120)
            .map(|i| {
                lesson(
                    &format!("x{i}"),
                    start + chrono::Duration::days(i),
                    &"Очень длинная тема занятия ".repeat(3),
                )
            })
            .collect();
        let o = w.step(Dialogue::Idle, Input::Button(Action::Schedule));
        let replies: Vec<_> = o.replies().collect();
        assert!(replies.len() > 1);
        assert!(replies.iter().all(|r| r.text.chars().count() < 4096));
        assert!(replies.last().unwrap().buttons.len() >= 2);
    }
}
