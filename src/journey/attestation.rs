//! The final test («Итоговая аттестация», step 5 of the instruction) as a pure state machine.
//!
//! An attempt draws its questions from the course's bank and shuffles them and their options
//! with randomness the runtime hands in ([`Ctx::entropy`]). The draw, the answers and the
//! marks live in the store (`test_attempts`), never in the buttons: a button names the
//! enrollment, the attempt, the question and the question's token — 8 hex digits, new on
//! every change of the attempt — and the position of an option as this attempt shows it. A
//! press on an older question or another attempt, made-up data, or the same button pressed
//! twice matches no current token and changes nothing; [`Command::UpdateAttempt`] is a guard
//! on the token, so two presses racing each other change the attempt once.
//!
//! The window: the test opens on the group's `test_opens_on` (or when its last lesson ends)
//! and closes when the group's last day is over. The time limit is the server's: an answer
//! after it ends the attempt with what was answered, and the scheduler ends it at the
//! deadline ([`Event::AttemptTimeUp`]). When the group ends, a passed learner gets the
//! document's sample ([`super::sample`]).
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::action::{Action, TestKey};
use super::browse::date_long;
use super::reply::{Button, Reply};
use super::schedule::{learner_tz, when};
use super::view::{AttemptResult, AttemptView, EnrollmentView};
use super::{sample, stale, Command, Ctx, Dialogue, JobRef, Outcome, StaffAlert};
use crate::domain::catalog::{Attestation, Course, Group, QuestionKind};
use crate::texts::Html;
use crate::tr;

/// A question as one attempt shows it: options in this attempt's order, the right ones by
/// their positions in that order (kept on the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedQuestion {
    pub id: String,
    pub text: String,
    pub kind: QuestionKind,
    pub options: Vec<String>,
    pub correct: Vec<u8>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// Every question answered.
    Answered,
    /// The time limit ran out.
    TimeUp,
    /// The test closed (the group ended) with the attempt unfinished.
    Closed,
}

impl EndedBy {
    pub fn code(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::TimeUp => "time_up",
            Self::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Answered, Self::TimeUp, Self::Closed]
            .into_iter()
            .find(|e| e.code() == code)
    }
}

/// Where an attempt stands: what is stored after each press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub answers: Vec<Vec<u8>>,
    pub marks: Vec<u8>,
    pub current: usize,
    pub token: String,
}

impl Progress {
    fn of(a: &AttemptView) -> Self {
        Self {
            answers: a.answers.clone(),
            marks: a.marks.clone(),
            current: a.current,
            token: a.token.clone(),
        }
    }
}

/// What the scheduler says about a group's test window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// The test has opened.
    Opened,
    /// The test closes in this many days.
    Closing { days: u8 },
    /// The group has ended: the test is closed.
    Ended,
    /// Some days after the end: a passed learner's sample still waits for the name or the
    /// address the application lacks (staff are told).
    DataMissing,
}

// ---- the window ----

fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// When the group's test opens: its `test_opens_on` (at midnight, the school's time), or
/// when its last lesson ends, or on its last day.
pub fn opens_at(group: &Group, tz: Tz) -> DateTime<Utc> {
    if let Some(day) = group.test_opens_on {
        return midnight(day, tz);
    }
    group
        .lessons
        .iter()
        .map(|l| l.ends_at())
        .max()
        .unwrap_or_else(|| midnight(group.ends_on, tz))
}

/// When the test closes: the end of the group's last day, the school's time.
pub fn closes_at(group: &Group, tz: Tz) -> DateTime<Utc> {
    midnight(group.ends_on.succ_opt().unwrap_or(group.ends_on), tz)
}

/// An enrollment's test with its catalog entries and window.
pub struct Test<'a> {
    pub e: &'a EnrollmentView,
    pub course: &'a Course,
    pub group: &'a Group,
    pub opens: i64,
    pub closes: i64,
}

pub fn test_of<'a>(ctx: &Ctx<'a>, e: &'a EnrollmentView) -> Option<Test<'a>> {
    let (course, group) = ctx.catalog.group(&e.group_id)?;
    Some(Test {
        e,
        course,
        group,
        opens: opens_at(group, ctx.school.tz).timestamp(),
        closes: closes_at(group, ctx.school.tz).timestamp(),
    })
}

/// What the learner can do about the test now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access<'a> {
    /// The application is not submitted yet.
    NotEnrolled,
    Passed(&'a AttemptView),
    Active(&'a AttemptView),
    Closed,
    NotYet,
    NoAttempts,
    /// The pause after a failed attempt lasts until then.
    Pause {
        until: i64,
    },
    Open {
        number: i64,
    },
}

pub fn passed(a: &AttemptView) -> bool {
    a.result.as_ref().is_some_and(|r| r.passed)
}

impl Test<'_> {
    fn rules(&self) -> &Attestation {
        &self.course.attestation
    }

    pub fn access(&self, now: i64) -> Access<'_> {
        if !self.e.enrolled {
            return Access::NotEnrolled;
        }
        if let Some(a) = self.e.attempts.iter().find(|a| passed(a)) {
            return Access::Passed(a);
        }
        if let Some(a) = self.e.attempts.iter().find(|a| a.active()) {
            return Access::Active(a);
        }
        if now >= self.closes {
            return Access::Closed;
        }
        if now < self.opens {
            return Access::NotYet;
        }
        let used = self.e.attempts.len() as i64;
        if used >= i64::from(self.rules().max_attempts) {
            return Access::NoAttempts;
        }
        let last_end = self
            .e
            .attempts
            .iter()
            .filter_map(|a| a.result.as_ref().map(|r| r.finished_at))
            .max();
        if let Some(end) = last_end {
            let until = end + i64::from(self.rules().pause_minutes) * 60;
            if now < until {
                return Access::Pause { until };
            }
        }
        let number = self.e.attempts.iter().map(|a| a.number).max().unwrap_or(0) + 1;
        Access::Open { number }
    }

    /// Why the attempt is over although unfinished, at `now`.
    fn expired(&self, a: &AttemptView, now: i64) -> Option<EndedBy> {
        if a.deadline_at.is_some_and(|d| now >= d) {
            Some(EndedBy::TimeUp)
        } else if now >= self.closes {
            Some(EndedBy::Closed)
        } else {
            None
        }
    }

    fn attempts_left(&self) -> i64 {
        i64::from(self.rules().max_attempts) - self.e.attempts.len() as i64
    }
}

// ---- drawing an attempt ----

/// The questions of a new attempt: drawn from the bank (all of them, or
/// `questions_per_attempt`), in a shuffled order, each with its options shuffled.
pub fn draw(rules: &Attestation, seed: u64) -> Vec<PlannedQuestion> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bank: Vec<_> = rules.questions.iter().collect();
    bank.shuffle(&mut rng);
    if let Some(n) = rules.questions_per_attempt {
        bank.truncate(n as usize);
    }
    bank.into_iter()
        .map(|q| {
            let mut order: Vec<usize> = (0..q.options.len()).collect();
            order.shuffle(&mut rng);
            PlannedQuestion {
                id: q.id.clone(),
                text: q.text.clone(),
                kind: q.kind,
                options: order.iter().map(|&i| q.options[i].clone()).collect(),
                correct: order
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| q.correct.contains(i))
                    .map(|(pos, _)| pos as u8)
                    .collect(),
            }
        })
        .collect()
}

/// A question's token: 8 hex digits from the step's entropy, never the previous one.
pub fn next_token(entropy: u64, previous: &str) -> String {
    // splitmix64: spreads nearby seeds over the whole range.
    let mut z = entropy.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let token = format!("{:08x}", z as u32);
    if token == previous {
        format!("{:08x}", (z as u32) ^ 1)
    } else {
        token
    }
}

/// Right answers: a question counts when exactly its right options were chosen.
pub fn score(plan: &[PlannedQuestion], answers: &[Vec<u8>]) -> i64 {
    plan.iter()
        .zip(answers)
        .filter(|(q, a)| {
            let mut chosen = (*a).clone();
            chosen.sort_unstable();
            chosen.dedup();
            let mut right = q.correct.clone();
            right.sort_unstable();
            chosen == right
        })
        .count() as i64
}

pub fn is_pass(score: i64, total: i64, pass_percent: u32) -> bool {
    total > 0 && score * 100 >= i64::from(pass_percent) * total
}

/// The least number of right answers that passes.
fn needed(total: i64, pass_percent: u32) -> i64 {
    (i64::from(pass_percent) * total + 99) / 100
}

// ---- what the learner sees ----

fn contacts(ctx: &Ctx) -> String {
    tr!(
        ctx.texts,
        "test-contacts",
        school_email = &ctx.school.email,
        school_phone = &ctx.school.phone
    )
}

fn closes_text(ctx: &Ctx, test: &Test) -> String {
    date_long(ctx.texts, test.group.ends_on)
}

fn time_at(ctx: &Ctx, at: i64) -> String {
    let at = DateTime::from_timestamp(at, 0).unwrap_or(ctx.now);
    when(ctx, learner_tz(ctx), at)
}

/// When the test opens: a date when it is a midnight of the school, else a time.
fn opens_text(ctx: &Ctx, test: &Test) -> String {
    match test.group.test_opens_on {
        Some(day) => date_long(ctx.texts, day),
        None => time_at(ctx, test.opens),
    }
}

fn start_button(ctx: &Ctx, e: i64) -> Button {
    Button::action(tr!(ctx.texts, "btn-test-start"), Action::TestStart(e))
}

/// The card that opens the test: the rules of the attempt and «Начать тест».
fn intro(ctx: &Ctx, test: &Test, number: i64) -> Reply {
    let t = ctx.texts;
    let rules = test.rules();
    let total = rules
        .questions_per_attempt
        .map_or(rules.questions.len(), |n| {
            (n as usize).min(rules.questions.len())
        }) as i64;
    let time = match rules.time_limit_minutes {
        Some(m) => tr!(t, "test-time-limit", minutes = m),
        None => tr!(t, "test-no-time-limit"),
    };
    Reply::text(tr!(
        t,
        "test-intro",
        course = &test.course.title,
        total = total,
        percent = rules.pass_percent,
        needed = needed(total, rules.pass_percent),
        time = time,
        attempt = number,
        attempts = rules.max_attempts,
        pause = rules.pause_minutes,
        closes = closes_text(ctx, test)
    ))
    .button(start_button(ctx, test.e.id))
}

/// One question of an attempt, with its progress, time left and buttons.
fn question(ctx: &Ctx, test: &Test, number: i64, a: &AttemptView, p: &Progress) -> Reply {
    let t = ctx.texts;
    let q = &a.plan[p.current];
    let total = a.plan.len();
    let time_left = match a.deadline_at {
        Some(deadline) => {
            let minutes = (deadline - ctx.ts() + 59) / 60;
            if minutes <= 1 {
                tr!(t, "test-time-left-last")
            } else {
                tr!(t, "test-time-left", minutes = minutes)
            }
        }
        None => String::new(),
    };
    let multiple = q.kind == QuestionKind::Multiple;
    let options: Vec<String> = q
        .options
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let marked = multiple && p.marks.contains(&(i as u8));
            tr!(
                t,
                "test-option",
                n = i + 1,
                text = text,
                marked = if marked { "yes" } else { "no" }
            )
        })
        .collect();
    let hint = if multiple {
        tr!(t, "test-hint-multiple")
    } else {
        tr!(t, "test-hint-single")
    };
    let mut reply = Reply::text(tr!(
        t,
        "test-question",
        course = &test.course.title,
        step = p.current + 1,
        total = total,
        time = Html(time_left),
        text = &q.text,
        hint = hint,
        options = Html(options.join("\n"))
    ));
    let key = TestKey {
        enrollment: test.e.id,
        attempt: number,
        index: p.current as u8,
        token: p.token.clone(),
    };
    let buttons: Vec<Button> = (0..q.options.len())
        .map(|i| {
            let label = if multiple && p.marks.contains(&(i as u8)) {
                tr!(t, "btn-test-marked", n = i + 1)
            } else {
                (i + 1).to_string()
            };
            Button::action(label, Action::TestAnswer(key.clone(), i as u8))
        })
        .collect();
    for row in buttons.chunks(5) {
        reply = reply.row(row.to_vec());
    }
    if multiple {
        reply = reply.button(Button::action(
            tr!(t, "btn-test-done"),
            Action::TestDone(key),
        ));
    }
    reply
}

/// What comes after a passed test.
fn after_pass(ctx: &Ctx, test: &Test) -> String {
    let t = ctx.texts;
    if test.e.certificate.is_some() {
        return tr!(t, "test-next-sample-sent");
    }
    if ctx.ts() >= test.closes {
        tr!(t, "test-next-sample-now")
    } else {
        tr!(
            t,
            "test-next-sample-later",
            date = date_long(t, test.group.ends_on)
        )
    }
}

/// The result of a finished attempt and what comes next. `left`: attempts still allowed.
fn result_reply(ctx: &Ctx, test: &Test, result: &AttemptResult, left: i64) -> Reply {
    let t = ctx.texts;
    let rules = test.rules();
    let percent = if result.total > 0 {
        result.score * 100 / result.total
    } else {
        0
    };
    let how = match result.ended_by {
        EndedBy::Answered => String::new(),
        EndedBy::TimeUp => tr!(t, "test-ended-time"),
        EndedBy::Closed => tr!(t, "test-ended-closed"),
    };
    if result.passed {
        return Reply::text(tr!(
            t,
            "test-result-passed",
            how = how,
            course = &test.course.title,
            score = result.score,
            total = result.total,
            percent = percent,
            pass = rules.pass_percent,
            next = Html(after_pass(ctx, test))
        ))
        .with_menu();
    }
    let next_at = result.finished_at + i64::from(rules.pause_minutes) * 60;
    let (next, button) = if left <= 0 {
        (
            tr!(t, "test-next-no-attempts", contacts = Html(contacts(ctx))),
            None,
        )
    } else if next_at >= test.closes {
        (
            tr!(t, "test-next-too-late", contacts = Html(contacts(ctx))),
            None,
        )
    } else if rules.pause_minutes == 0 {
        (
            tr!(t, "test-next-now", left = left),
            Some(Button::action(
                tr!(t, "btn-test-again"),
                Action::TestStart(test.e.id),
            )),
        )
    } else {
        (
            tr!(
                t,
                "test-next-after-pause",
                left = left,
                at = Html(time_at(ctx, next_at)),
                closes = closes_text(ctx, test)
            ),
            Some(Button::action(
                tr!(t, "btn-test-again"),
                Action::TestStart(test.e.id),
            )),
        )
    };
    let reply = Reply::text(tr!(
        t,
        "test-result-failed",
        how = how,
        course = &test.course.title,
        score = result.score,
        total = result.total,
        percent = percent,
        pass = rules.pass_percent,
        next = Html(next)
    ));
    match button {
        Some(b) => reply.button(b),
        None => reply.with_menu(),
    }
}

/// The test's state as a message: what the learner can do now.
fn card(ctx: &Ctx, test: &Test) -> Reply {
    let t = ctx.texts;
    let title = &test.course.title;
    match test.access(ctx.ts()) {
        Access::NotEnrolled => Reply::text(tr!(t, "test-not-enrolled"))
            .button(Button::action(tr!(t, "btn-status"), Action::Status)),
        Access::Open { number } => intro(ctx, test, number),
        Access::NotYet => Reply::text(tr!(
            t,
            "test-not-yet",
            course = title,
            opens = Html(opens_text(ctx, test)),
            closes = closes_text(ctx, test)
        )),
        Access::Passed(a) => {
            let r = a.result.as_ref().expect("a passed attempt has a result");
            Reply::text(tr!(
                t,
                "test-already-passed",
                course = title,
                score = r.score,
                total = r.total,
                next = Html(after_pass(ctx, test))
            ))
        }
        Access::Pause { until } => Reply::text(tr!(
            t,
            "test-pause",
            course = title,
            at = Html(time_at(ctx, until)),
            left = test.attempts_left()
        )),
        Access::NoAttempts => Reply::text(tr!(
            t,
            "test-no-attempts",
            course = title,
            contacts = Html(contacts(ctx))
        )),
        Access::Closed => closed(ctx, test),
        // Resumed by the caller.
        Access::Active(_) => Reply::text(tr!(t, "test-running")),
    }
}

fn closed(ctx: &Ctx, test: &Test) -> Reply {
    Reply::text(tr!(
        ctx.texts,
        "test-closed",
        course = &test.course.title,
        closes = closes_text(ctx, test),
        contacts = Html(contacts(ctx))
    ))
}

/// The enrollments the test concerns: those with their application submitted.
fn enrolled<'a>(ctx: &Ctx<'a>) -> Vec<Test<'a>> {
    ctx.learner
        .enrollments
        .iter()
        .filter(|e| e.enrolled)
        .filter_map(|e| test_of(ctx, e))
        .collect()
}

// ---- steps ----

/// `/test` and «📝 Итоговая аттестация»: the test of each course, or the attempt in progress
/// at its current question (with a fresh token: the question on screen before is retired).
pub fn open(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    let t = ctx.texts;
    let tests = enrolled(ctx);
    if tests.is_empty() {
        let reply = if ctx.learner.enrollments.is_empty() {
            Reply::text(tr!(t, "test-no-courses"))
                .button(Button::action(tr!(t, "btn-catalog"), Action::Catalog))
        } else {
            Reply::text(tr!(t, "test-not-enrolled"))
                .button(Button::action(tr!(t, "btn-status"), Action::Status))
        };
        return Outcome::stay(dialogue).say(reply);
    }
    let mut outcome = Outcome::stay(dialogue);
    for (i, test) in tests.iter().enumerate() {
        let now = ctx.ts();
        outcome = match test.access(now) {
            Access::Active(a) => match test.expired(a, now) {
                Some(why) => finish(ctx, outcome, test, a, Progress::of(a), why, false),
                None => resume(ctx, outcome, test, a, i as u64),
            },
            _ => outcome.say(card(ctx, test)),
        };
    }
    outcome
}

fn resume(ctx: &Ctx, outcome: Outcome, test: &Test, a: &AttemptView, salt: u64) -> Outcome {
    let mut progress = Progress::of(a);
    progress.token = next_token(ctx.entropy ^ salt, &a.token);
    outcome
        .run(Command::UpdateAttempt {
            enrollment: test.e.id,
            attempt: a.number,
            expected: a.token.clone(),
            progress: progress.clone(),
            result: None,
        })
        .say(Reply::text(tr!(
            ctx.texts,
            "test-resumed",
            step = a.current + 1,
            total = a.plan.len()
        )))
        .say(question(ctx, test, a.number, a, &progress))
}

/// «Начать тест» / «Пройти ещё раз»: a new attempt when one is open.
pub fn start(ctx: &Ctx, dialogue: Dialogue, enrollment: i64) -> Outcome {
    let t = ctx.texts;
    let Some(test) = ctx
        .learner
        .enrollment(enrollment)
        .and_then(|e| test_of(ctx, e))
    else {
        return stale(ctx, dialogue);
    };
    match test.access(ctx.ts()) {
        Access::Open { number } => {
            let rules = test.rules();
            let plan = draw(rules, ctx.entropy);
            if plan.is_empty() {
                return Outcome::stay(dialogue).say(Reply::text(tr!(
                    t,
                    "test-no-questions",
                    contacts = Html(contacts(ctx))
                )));
            }
            let token = next_token(ctx.entropy, "");
            let deadline_at = rules
                .time_limit_minutes
                .map(|m| ctx.ts() + i64::from(m) * 60);
            let attempt = AttemptView {
                number,
                plan: plan.clone(),
                answers: Vec::new(),
                marks: Vec::new(),
                current: 0,
                token: token.clone(),
                started_at: ctx.ts(),
                deadline_at,
                result: None,
            };
            let progress = Progress::of(&attempt);
            Outcome::stay(dialogue)
                .run(Command::StartAttempt {
                    enrollment,
                    attempt: number,
                    plan,
                    token,
                    deadline_at,
                })
                .edit(question(ctx, &test, number, &attempt, &progress))
        }
        Access::Active(_) => Outcome::stay(dialogue).toast(tr!(t, "test-running")),
        Access::Pause { until } => Outcome::stay(dialogue).toast(tr!(
            t,
            "test-pause-toast",
            at = crate::journey::reply::plain_text(&time_at(ctx, until))
        )),
        Access::Passed(_) => Outcome::stay(dialogue).toast(tr!(t, "test-passed-toast")),
        _ => Outcome::stay(dialogue).say(card(ctx, &test)),
    }
}

/// A press on a question: an answer (single choice), a mark (multiple choice), or «Готово».
pub fn answer(ctx: &Ctx, dialogue: Dialogue, key: &TestKey, choice: Option<u8>) -> Outcome {
    let t = ctx.texts;
    let Some(test) = ctx
        .learner
        .enrollment(key.enrollment)
        .and_then(|e| test_of(ctx, e))
    else {
        return stale(ctx, dialogue);
    };
    let Some(a) = test.e.attempts.iter().find(|a| a.number == key.attempt) else {
        return stale(ctx, dialogue);
    };
    if !a.active() {
        return Outcome::stay(dialogue).toast(tr!(t, "test-attempt-over"));
    }
    if usize::from(key.index) != a.current || key.token != a.token || a.current >= a.plan.len() {
        return Outcome::stay(dialogue).toast(tr!(t, "test-question-past"));
    }
    if let Some(why) = test.expired(a, ctx.ts()) {
        return finish(
            ctx,
            Outcome::stay(dialogue),
            &test,
            a,
            Progress::of(a),
            why,
            true,
        );
    }
    let q = &a.plan[a.current];
    let mut progress = Progress::of(a);
    let in_range = |c: u8| usize::from(c) < q.options.len();
    match (q.kind, choice) {
        (QuestionKind::Single, Some(c)) if in_range(c) => {
            progress.answers.push(vec![c]);
        }
        (QuestionKind::Multiple, Some(c)) if in_range(c) => {
            match progress.marks.iter().position(|m| *m == c) {
                Some(i) => {
                    progress.marks.remove(i);
                }
                None => progress.marks.push(c),
            }
            progress.marks.sort_unstable();
            progress.token = next_token(ctx.entropy, &a.token);
            return Outcome::stay(dialogue)
                .run(update(&test, a, &progress, None))
                .edit(question(ctx, &test, a.number, a, &progress));
        }
        (QuestionKind::Multiple, None) => {
            if progress.marks.is_empty() {
                return Outcome::stay(dialogue).toast(tr!(t, "test-mark-something"));
            }
            let marks = std::mem::take(&mut progress.marks);
            progress.answers.push(marks);
        }
        _ => return stale(ctx, dialogue),
    }
    progress.current += 1;
    if progress.current >= a.plan.len() {
        return finish(
            ctx,
            Outcome::stay(dialogue),
            &test,
            a,
            progress,
            EndedBy::Answered,
            true,
        );
    }
    progress.token = next_token(ctx.entropy, &a.token);
    Outcome::stay(dialogue)
        .run(update(&test, a, &progress, None))
        .edit(question(ctx, &test, a.number, a, &progress))
}

fn update(
    test: &Test,
    a: &AttemptView,
    progress: &Progress,
    result: Option<AttemptResult>,
) -> Command {
    Command::UpdateAttempt {
        enrollment: test.e.id,
        attempt: a.number,
        expected: a.token.clone(),
        progress: progress.clone(),
        result,
    }
}

/// Ends an attempt: scored, stored, staff alerted, the learner told (in place of the
/// question when they pressed it, else as a new message).
fn finish(
    ctx: &Ctx,
    outcome: Outcome,
    test: &Test,
    a: &AttemptView,
    mut progress: Progress,
    ended_by: EndedBy,
    in_place: bool,
) -> Outcome {
    let total = a.plan.len() as i64;
    let score = score(&a.plan, &progress.answers);
    let result = AttemptResult {
        finished_at: ctx.ts(),
        score,
        total,
        passed: is_pass(score, total, test.rules().pass_percent),
        ended_by,
    };
    progress.marks.clear();
    progress.token = next_token(ctx.entropy ^ 0x5eed, &a.token);
    let left = test.attempts_left();
    let reply = result_reply(ctx, test, &result, left);
    let outcome = outcome
        .run(update(test, a, &progress, Some(result.clone())))
        .run(Command::AlertStaff(StaffAlert::TestResult {
            enrollment: test.e.id,
            attempt: a.number,
            score,
            total,
            passed: result.passed,
        }));
    if in_place {
        outcome.edit(reply)
    } else {
        outcome.say(reply)
    }
}

/// The scheduler: an attempt's time is up. Ends it when it still runs.
pub fn time_up(
    ctx: &Ctx,
    dialogue: Dialogue,
    job: JobRef,
    enrollment: i64,
    attempt: i64,
) -> Outcome {
    let Some(test) = ctx
        .learner
        .enrollment(enrollment)
        .and_then(|e| test_of(ctx, e))
    else {
        return Outcome::stay(dialogue);
    };
    match test.e.attempts.iter().find(|a| a.number == attempt) {
        Some(a) if a.active() => match test.expired(a, ctx.ts()) {
            Some(why) => finish(
                ctx,
                Outcome::stay(dialogue),
                &test,
                a,
                Progress::of(a),
                why,
                false,
            )
            .run(Command::CompleteJob(job)),
            None => Outcome::stay(dialogue),
        },
        _ => Outcome::stay(dialogue),
    }
}

/// The scheduler, about the group's test window: it opened; it closes in a few days; the
/// group has ended (an unfinished attempt ends; a passed test makes the sample).
pub fn window(
    ctx: &Ctx,
    dialogue: Dialogue,
    job: JobRef,
    enrollment: i64,
    notice: Notice,
) -> Outcome {
    let t = ctx.texts;
    let Some(test) = ctx
        .learner
        .enrollment(enrollment)
        .and_then(|e| test_of(ctx, e))
    else {
        return Outcome::stay(dialogue);
    };
    let now = ctx.ts();
    let access = test.access(now);
    let outcome = Outcome::stay(dialogue.clone());
    match notice {
        Notice::Opened => match access {
            Access::Open { number: 1 } if by_letter(ctx) => outcome
                .say(in_telegram(
                    ctx,
                    tr!(
                        t,
                        "test-opened-by-letter",
                        course = &test.course.title,
                        closes = closes_text(ctx, &test)
                    ),
                ))
                .run(Command::CompleteJob(job)),
            Access::Open { number: 1 } => outcome
                .say(
                    Reply::text(tr!(
                        t,
                        "test-opened",
                        course = &test.course.title,
                        closes = closes_text(ctx, &test)
                    ))
                    .button(start_button(ctx, enrollment)),
                )
                .run(Command::CompleteJob(job)),
            _ => outcome,
        },
        Notice::Closing { days } => {
            let warn = match access {
                Access::Open { .. } | Access::Active(_) => true,
                Access::Pause { until } => until < test.closes,
                _ => false,
            };
            if !warn {
                return outcome;
            }
            if by_letter(ctx) {
                let warning = tr!(
                    t,
                    "test-closing",
                    days = u32::from(days),
                    course = &test.course.title,
                    closes = closes_text(ctx, &test)
                );
                let outcome = outcome.say(in_telegram(ctx, warning));
                // The last day: staff may still call a learner who only reads letters.
                let outcome = if days <= 1 {
                    outcome.run(Command::AlertStaff(StaffAlert::TestNotTakenByLetter {
                        enrollment,
                    }))
                } else {
                    outcome
                };
                return outcome.run(Command::CompleteJob(job));
            }
            outcome
                .say(
                    Reply::text(tr!(
                        t,
                        "test-closing",
                        days = u32::from(days),
                        course = &test.course.title,
                        closes = closes_text(ctx, &test)
                    ))
                    .button(Button::action(tr!(t, "btn-test"), Action::Test)),
                )
                .run(Command::CompleteJob(job))
        }
        Notice::DataMissing => match access {
            Access::Passed(_) => match sample::data_still_missing(ctx, &test) {
                Some(asked) => outcome.then(asked).run(Command::CompleteJob(job)),
                None => outcome,
            },
            _ => outcome,
        },
        Notice::Ended => {
            let mut outcome = outcome;
            let mut acted = false;
            let mut passed_now = false;
            if let Access::Active(a) = access {
                let why = test.expired(a, now).unwrap_or(EndedBy::Closed);
                outcome = finish(ctx, outcome, &test, a, Progress::of(a), why, false);
                passed_now = outcome.commands().any(
                    |c| matches!(c, Command::UpdateAttempt { result: Some(r), .. } if r.passed),
                );
                acted = true;
            }
            let passed = passed_now || test.e.attempts.iter().any(passed);
            if passed && test.e.certificate.is_none() {
                let first = sample::first(ctx, &test);
                // Asking for missing data takes the conversation; a sample leaves it be.
                let next = match &first.dialogue {
                    Dialogue::Idle => dialogue,
                    asking => asking.clone(),
                };
                outcome = outcome.then(first).to(next);
                acted = true;
            }
            if acted {
                outcome.run(Command::CompleteJob(job))
            } else {
                outcome
            }
        }
    }
}

/// The learner has no Telegram: notices go by letter, and the test (inline buttons) is
/// taken in the bot after following the link that joins Telegram to this learner.
fn by_letter(ctx: &Ctx) -> bool {
    ctx.learner.tg_user_id.is_none()
}

/// A notice for a learner without Telegram: `text`, how to take the test in the bot, and
/// the link that opens the bot as this learner.
fn in_telegram(ctx: &Ctx, text: String) -> Reply {
    let t = ctx.texts;
    match super::registration::telegram_link(ctx) {
        Some(link) => Reply::text(format!("{text}\n\n{}", tr!(t, "test-by-letter-how")))
            .button(Button::url(tr!(t, "btn-test-in-telegram"), &link)),
        None => Reply::text(format!(
            "{text}\n\n{}",
            tr!(t, "test-by-letter-no-link", contacts = Html(contacts(ctx)))
        )),
    }
}

/// A line for `/status` about the test of an enrolled learner, with its button.
pub fn status_line(ctx: &Ctx, e: &EnrollmentView) -> Option<(String, Option<Button>)> {
    let t = ctx.texts;
    let test = test_of(ctx, e)?;
    if let Some(line) = sample::status_line(ctx, e) {
        return Some(line);
    }
    let test_button = || Some(Button::action(tr!(t, "btn-test"), Action::Test));
    Some(match test.access(ctx.ts()) {
        Access::NotEnrolled => return None,
        Access::NotYet => (
            tr!(
                t,
                "stage-test-not-yet",
                opens = Html(opens_text(ctx, &test))
            ),
            None,
        ),
        Access::Open { .. } => (
            tr!(t, "stage-test-open", closes = closes_text(ctx, &test)),
            test_button(),
        ),
        Access::Active(_) => (tr!(t, "stage-test-running"), test_button()),
        Access::Pause { until } => (
            tr!(t, "stage-test-pause", at = Html(time_at(ctx, until))),
            None,
        ),
        Access::Passed(a) => {
            let r = a.result.as_ref()?;
            (
                tr!(
                    t,
                    "stage-test-passed",
                    score = r.score,
                    total = r.total,
                    next = Html(after_pass(ctx, &test))
                ),
                None,
            )
        }
        Access::NoAttempts | Access::Closed => (tr!(t, "stage-test-failed"), None),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::catalog::Question;
    use crate::journey::testkit::*;
    use crate::journey::view::{CertificateView, LearnerView};
    use crate::journey::{Effect, Input};

    fn bank() -> Vec<Question> {
        let single = |id: &str, right: usize| Question {
            id: id.into(),
            text: format!("Вопрос {id}?"),
            kind: QuestionKind::Single,
            options: vec!["А".into(), "Б".into(), "В".into()],
            correct: vec![right],
        };
        vec![
            single("q1", 0),
            single("q2", 1),
            Question {
                id: "q3".into(),
                text: "Вопрос q3?".into(),
                kind: QuestionKind::Multiple,
                options: vec!["Да".into(), "Нет".into(), "Верно".into(), "Ложь".into()],
                correct: vec![0, 2],
            },
        ]
    }

    /// An enrolled learner of fgos-dec (7–25 December); the test opens on the 20th.
    /// The scheduler's notice about the test window of enrollment 5.
    fn window(w: &World, notice: Notice) -> Outcome {
        w.step(
            Dialogue::Idle,
            Input::Event(crate::journey::Event::TestWindow {
                job: JobRef {
                    id: 1,
                    worker: "w".into(),
                },
                enrollment: 5,
                notice,
            }),
        )
    }

    fn world() -> World {
        let mut learner: LearnerView = registered();
        learner.enrollments.push(EnrollmentView {
            enrolled: true,
            form_completed: true,
            form: [
                ("surname", "Иванова"),
                ("name", "Мария"),
                ("patronymic", "Сергеевна"),
                (
                    "address",
                    "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..paid_enrollment()
        });
        let mut w = World::new(learner);
        let course = &mut w.catalog.courses[0];
        course.attestation.questions = bank();
        course.attestation.time_limit_minutes = Some(30);
        course.groups[0].test_opens_on = NaiveDate::from_ymd_opt(2026, 12, 20);
        w.now = at(21, 12);
        w
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Moscow
            .with_ymd_and_hms(2026, 12, day, hour, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn enrollment(w: &mut World) -> &mut EnrollmentView {
        &mut w.learner.enrollments[0]
    }

    /// Applies the attempt commands of an outcome to the learner's snapshot, as the store
    /// would.
    fn apply(w: &mut World, o: &Outcome) {
        let now = w.now.timestamp();
        for c in o.commands() {
            match c {
                Command::StartAttempt {
                    attempt,
                    plan,
                    token,
                    deadline_at,
                    ..
                } => enrollment(w).attempts.push(AttemptView {
                    number: *attempt,
                    plan: plan.clone(),
                    answers: Vec::new(),
                    marks: Vec::new(),
                    current: 0,
                    token: token.clone(),
                    started_at: now,
                    deadline_at: *deadline_at,
                    result: None,
                }),
                Command::UpdateAttempt {
                    attempt,
                    expected,
                    progress,
                    result,
                    ..
                } => {
                    let a = enrollment(w)
                        .attempts
                        .iter_mut()
                        .find(|a| a.number == *attempt)
                        .unwrap();
                    assert_eq!(&a.token, expected, "the guard would refuse it");
                    a.answers = progress.answers.clone();
                    a.marks = progress.marks.clone();
                    a.current = progress.current;
                    a.token = progress.token.clone();
                    a.result = result.clone();
                }
                _ => {}
            }
        }
    }

    fn edited(o: &Outcome) -> &Reply {
        o.effects
            .iter()
            .find_map(|e| match e {
                Effect::Edit(r) => Some(r),
                _ => None,
            })
            .expect("the message is edited in place")
    }

    fn toast(o: &Outcome) -> Option<&str> {
        o.effects.iter().find_map(|e| match e {
            Effect::Toast(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// The button with this label on the question on screen, and its action.
    fn action(r: &Reply, label: &str) -> Action {
        r.all_buttons()
            .find_map(|b| match b {
                Button::Action { label: l, action } if l == label => Some(action.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no button {label}"))
    }

    /// The shown number of the option with this text.
    fn number_of(r: &Reply, option: &str) -> String {
        let text = crate::journey::reply::plain_text(&r.text);
        text.lines()
            .find_map(|l| {
                let l = l.trim_start_matches("✅ ");
                let (n, rest) = l.split_once(". ")?;
                (rest == option).then(|| n.to_owned())
            })
            .unwrap_or_else(|| panic!("no option {option} in {text}"))
    }

    fn press(w: &mut World, action: Action) -> Outcome {
        w.entropy = w.entropy.wrapping_add(1);
        let o = w.step(Dialogue::Idle, Input::Button(action));
        apply(w, &o);
        o
    }

    /// Answers the question on screen right (or wrong) from the bank.
    fn answer_on(w: &mut World, screen: &Reply, right: bool) -> Outcome {
        let text = crate::journey::reply::plain_text(&screen.text);
        let q = bank()
            .into_iter()
            .find(|q| text.contains(&q.text))
            .expect("a bank question");
        let picks: Vec<&String> = q
            .options
            .iter()
            .enumerate()
            .filter(|(i, _)| q.correct.contains(i) == right)
            .map(|(_, o)| o)
            .collect();
        let mut screen = screen.clone();
        match q.kind {
            QuestionKind::Single => {
                let n = number_of(&screen, picks[0]);
                press(w, action(&screen, &n))
            }
            QuestionKind::Multiple => {
                for pick in picks {
                    let n = number_of(&screen, pick);
                    let o = press(w, action(&screen, &n));
                    screen = edited(&o).clone();
                    assert!(
                        screen.all_buttons().any(|b| b.label() == format!("✅ {n}")),
                        "the mark shows"
                    );
                }
                press(w, action(&screen, "➡️ Готово"))
            }
        }
    }

    #[test]
    fn the_window_opens_on_its_day_and_closes_after_the_last_day() {
        let mut w = world();
        w.now = at(19, 23);
        let o = w.step(Dialogue::Idle, Input::Command(crate::journey::Cmd::Test));
        let text = texts_of(&o);
        assert!(text.contains("откроется 20 декабря"), "{text}");
        assert!(o.commands().next().is_none());
        w.now = at(20, 0);
        let o = w.step(Dialogue::Idle, Input::Command(crate::journey::Cmd::Test));
        assert!(texts_of(&o).contains("Вопросов: 3"), "{}", texts_of(&o));
        assert!(texts_of(&o).contains("хотя бы на 3 (70 %)"));
        assert!(texts_of(&o).contains("Время на попытку: 30 мин"));
        assert!(buttons_of(&o).contains(&"▶️ Начать тест".to_owned()));
        // The last day counts; the next midnight closes it, with the contacts.
        w.now = at(25, 23);
        let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
        assert!(o
            .commands()
            .any(|c| matches!(c, Command::StartAttempt { .. })));
        w.now = at(26, 0);
        let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
        let text = texts_of(&o);
        assert!(text.contains("закрыта"), "{text}");
        assert!(text.contains("teach@example.org"), "{text}");
        assert!(o.commands().next().is_none());
        // Not enrolled yet: nothing to take.
        enrollment(&mut w).enrolled = false;
        w.now = at(21, 12);
        let o = w.step(Dialogue::Idle, Input::Command(crate::journey::Cmd::Test));
        assert!(texts_of(&o).contains("после зачисления"));
    }

    #[test]
    fn an_attempt_runs_in_place_and_passes() {
        let mut w = world();
        let o = press(&mut w, Action::TestStart(5));
        let Some(Command::StartAttempt {
            attempt,
            plan,
            token,
            deadline_at,
            ..
        }) = o.commands().next()
        else {
            panic!("an attempt starts")
        };
        assert_eq!(*attempt, 1);
        assert_eq!(plan.len(), 3);
        assert_eq!(token.len(), 8);
        assert_eq!(*deadline_at, Some(w.now.timestamp() + 30 * 60));
        let mut screen = edited(&o).clone();
        let text = texts_of(&o);
        assert!(text.contains("Вопрос 1 из 3"), "{text}");
        assert!(text.contains("осталось 30 мин"), "{text}");
        // No button carries an answer key: only positions and the token.
        for b in screen.all_buttons() {
            if let Button::Action { action, .. } = b {
                assert!(!action.encode().contains("А"));
            }
        }
        for step in 2..=3 {
            let o = answer_on(&mut w, &screen, true);
            screen = edited(&o).clone();
            assert!(
                texts_of(&o).contains(&format!("Вопрос {step} из 3")),
                "{}",
                texts_of(&o)
            );
        }
        let o = answer_on(&mut w, &screen, true);
        let text = texts_of(&o);
        assert!(text.contains("Тест сдан"), "{text}");
        assert!(text.contains("3 из 3 (100 %)"), "{text}");
        assert!(text.contains("после окончания обучения (25 декабря 2026 г.)"));
        assert!(o.commands().any(|c| matches!(
            c,
            Command::AlertStaff(StaffAlert::TestResult {
                enrollment: 5,
                attempt: 1,
                score: 3,
                total: 3,
                passed: true
            })
        )));
        // Once passed, nothing more to take.
        let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
        assert_eq!(toast(&o), Some("Тест уже сдан."));
    }

    #[test]
    fn stale_forged_and_repeated_presses_change_nothing() {
        let mut w = world();
        let o = press(&mut w, Action::TestStart(5));
        let first = edited(&o).clone();
        let old = action(&first, "1");
        let o = press(&mut w, old.clone());
        assert!(o
            .commands()
            .any(|c| matches!(c, Command::UpdateAttempt { .. })));
        // The same button again (a double press), a question of another attempt, made-up
        // data, an option that is not there: a short answer, no change.
        let o = w.step(Dialogue::Idle, Input::Button(old.clone()));
        assert_eq!(o.commands().count(), 0);
        assert_eq!(
            toast(&o),
            Some("Этот вопрос уже позади — ответьте на последний вопрос теста.")
        );
        let Action::TestAnswer(key, _) = old else {
            panic!()
        };
        let current = w.learner.enrollments[0].attempts[0].token.clone();
        for forged in [
            Action::TestAnswer(
                TestKey {
                    attempt: 2,
                    token: current.clone(),
                    index: 1,
                    ..key.clone()
                },
                0,
            ),
            Action::TestAnswer(
                TestKey {
                    enrollment: 6,
                    token: current.clone(),
                    index: 1,
                    ..key.clone()
                },
                0,
            ),
            Action::TestAnswer(
                TestKey {
                    token: "00000000".into(),
                    index: 1,
                    ..key.clone()
                },
                0,
            ),
            Action::TestAnswer(
                TestKey {
                    token: current.clone(),
                    index: 1,
                    ..key.clone()
                },
                9,
            ),
        ] {
            let o = w.step(Dialogue::Idle, Input::Button(forged.clone()));
            assert_eq!(o.commands().count(), 0, "{forged:?}");
            assert!(toast(&o).is_some(), "{forged:?}");
        }
    }

    #[test]
    fn a_failed_attempt_waits_out_the_pause_and_attempts_run_out() {
        let mut w = world();
        w.catalog.courses[0].attestation.max_attempts = 2;
        for attempt in 1..=2 {
            let o = press(&mut w, Action::TestStart(5));
            let mut screen = edited(&o).clone();
            let mut last = o;
            for _ in 0..3 {
                last = answer_on(&mut w, &screen, false);
                if let Some(Effect::Edit(r)) =
                    last.effects.iter().find(|e| matches!(e, Effect::Edit(_)))
                {
                    screen = r.clone();
                }
            }
            let text = texts_of(&last);
            assert!(text.contains("Тест не сдан"), "{text}");
            assert!(text.contains("0 из 3"), "{text}");
            if attempt == 1 {
                assert!(text.contains("Осталось попыток: 1"), "{text}");
                assert!(buttons_of(&last).contains(&"🔁 Пройти ещё раз".to_owned()));
                // The pause: an hour.
                w.now += chrono::Duration::minutes(30);
                let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
                assert!(
                    toast(&o).is_some_and(|t| t.contains("13:00")),
                    "{:?}",
                    toast(&o)
                );
                assert_eq!(o.commands().count(), 0);
                w.now += chrono::Duration::minutes(31);
            } else {
                assert!(text.contains("Попытки закончились"), "{text}");
                assert!(text.contains("teach@example.org"), "{text}");
            }
        }
        let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
        assert!(texts_of(&o).contains("попытки закончились"));
        assert_eq!(o.commands().count(), 0);
    }

    #[test]
    fn the_time_limit_is_kept_by_the_server() {
        let mut w = world();
        let o = press(&mut w, Action::TestStart(5));
        let screen = edited(&o).clone();
        w.now += chrono::Duration::minutes(29);
        let o = w.step(Dialogue::Idle, Input::Button(Action::TestStart(5)));
        assert_eq!(
            toast(&o),
            Some("Тест уже идёт — ответьте, пожалуйста, на вопрос выше.")
        );
        w.now += chrono::Duration::minutes(1);
        let o = answer_on(&mut w, &screen, true);
        let text = texts_of(&o);
        assert!(text.contains("Время на попытку истекло"), "{text}");
        assert!(text.contains("0 из 3"), "{text}");
        let a = &w.learner.enrollments[0].attempts[0];
        assert_eq!(a.result.as_ref().unwrap().ended_by, EndedBy::TimeUp);
        assert!(a.answers.is_empty(), "the late answer does not count");
    }

    #[test]
    fn the_timer_ends_a_running_attempt_once() {
        let mut w = world();
        let o = press(&mut w, Action::TestStart(5));
        let screen = edited(&o).clone();
        answer_on(&mut w, &screen, true);
        let job = JobRef {
            id: 1,
            worker: "w".into(),
        };
        let timer = |w: &World| {
            w.step(
                Dialogue::Idle,
                Input::Event(crate::journey::Event::AttemptTimeUp {
                    job: job.clone(),
                    enrollment: 5,
                    attempt: 1,
                }),
            )
        };
        w.now += chrono::Duration::minutes(30);
        let o = timer(&w);
        assert!(o.commands().any(|c| matches!(c, Command::CompleteJob(_))));
        assert!(texts_of(&o).contains("1 из 3"), "{}", texts_of(&o));
        apply(&mut w, &o);
        assert!(timer(&w).commands().next().is_none());
    }

    #[test]
    fn resuming_shows_the_same_question_with_a_new_token() {
        let mut w = world();
        let o = press(&mut w, Action::TestStart(5));
        let screen = edited(&o).clone();
        let o = answer_on(&mut w, &screen, true);
        let second = edited(&o).clone();
        w.entropy += 7;
        let o = w.step(Dialogue::Idle, Input::Command(crate::journey::Cmd::Test));
        let text = texts_of(&o);
        assert!(text.contains("продолжаем с вопроса 2 из 3"), "{text}");
        assert!(text.contains("Вопрос 2 из 3"), "{text}");
        apply(&mut w, &o);
        // The question shown before is retired; the new one answers.
        let o = w.step(Dialogue::Idle, Input::Button(action(&second, "1")));
        assert_eq!(o.commands().count(), 0);
    }

    #[test]
    fn the_draw_is_random_per_attempt_but_keeps_the_right_answers() {
        let mut rules = crate::journey::testkit::catalog().courses[0]
            .attestation
            .clone();
        rules.questions = bank();
        let a = draw(&rules, 1);
        assert_eq!(a, draw(&rules, 1));
        let orders: std::collections::BTreeSet<Vec<String>> = (0..20)
            .map(|seed| draw(&rules, seed).iter().map(|q| q.id.clone()).collect())
            .collect();
        assert!(orders.len() > 1, "questions are shuffled");
        for seed in 0..20 {
            for q in draw(&rules, seed) {
                let source = bank().into_iter().find(|b| b.id == q.id).unwrap();
                let right: Vec<&String> =
                    q.correct.iter().map(|&i| &q.options[i as usize]).collect();
                let expected: Vec<&String> =
                    source.correct.iter().map(|&i| &source.options[i]).collect();
                let mut right = right;
                right.sort();
                let mut expected = expected;
                expected.sort();
                assert_eq!(right, expected);
            }
        }
        rules.questions_per_attempt = Some(2);
        assert_eq!(draw(&rules, 3).len(), 2);
        assert_eq!(score(&a, &[vec![a[0].correct[0]]]), 1);
        assert!(is_pass(7, 10, 70) && !is_pass(6, 10, 70));
    }

    #[test]
    fn the_end_of_the_group_closes_the_attempt_and_makes_the_sample() {
        let mut w = world();
        w.catalog.courses[0].attestation.time_limit_minutes = None;
        let o = press(&mut w, Action::TestStart(5));
        let mut screen = edited(&o).clone();
        for _ in 0..2 {
            let o = answer_on(&mut w, &screen, true);
            screen = edited(&o).clone();
        }
        // The third question is left unanswered when the group ends: 2 of 3 is 66 % < 70 %.
        w.catalog.courses[0].attestation.pass_percent = 60;
        w.now = at(26, 0);
        let ended = |w: &World| window(w, Notice::Ended);
        let o = ended(&w);
        let text = texts_of(&o);
        assert!(text.contains("аттестация закрылась"), "{text}");
        assert!(text.contains("Тест сдан"), "{text}");
        let issue = o
            .commands()
            .find_map(|c| match c {
                Command::IssueSample {
                    version,
                    full_name,
                    postal_address,
                    notice,
                    letter,
                    ..
                } => Some((*version, full_name, postal_address, notice, letter)),
                _ => None,
            })
            .expect("the sample is made");
        assert_eq!(issue.0, 1);
        assert_eq!(issue.1, "Иванова Мария Сергеевна");
        assert!(issue.2.starts_with("620014"));
        assert!(issue
            .3
            .all_buttons()
            .any(|b| b.label() == "✅ ФИО и адрес верны"));
        assert!(issue.4.contains("Подтверждаю"));
        assert!(o.commands().any(|c| matches!(c, Command::CompleteJob(_))));
        apply(&mut w, &o);
        enrollment(&mut w).certificate = Some(CertificateView {
            registration_number: "ПК-2026-000005".into(),
            full_name: issue.1.clone(),
            postal_address: issue.2.clone(),
            version: 1,
            confirmed: false,
            printed: false,
            tracking_number: None,
        });
        // Run again (a retried job): nothing twice.
        assert!(ended(&w).commands().next().is_none());
    }

    #[test]
    fn warnings_go_to_those_who_have_not_passed() {
        let mut w = world();
        let warn = |w: &World| window(w, Notice::Closing { days: 3 });
        w.now = at(22, 0);
        let o = warn(&w);
        let text = texts_of(&o);
        assert!(text.contains("осталось 3 дня"), "{text}");
        assert!(
            text.contains("до 25 декабря 2026 г. включительно"),
            "{text}"
        );
        let o = press(&mut w, Action::TestStart(5));
        let mut screen = edited(&o).clone();
        for _ in 0..3 {
            let o = answer_on(&mut w, &screen, true);
            if let Some(Effect::Edit(r)) = o.effects.iter().find(|e| matches!(e, Effect::Edit(_))) {
                screen = r.clone();
            }
        }
        assert!(warn(&w).effects.is_empty(), "passed: no warning");
    }

    /// A passed attempt of enrollment 5.
    fn passed_attempt() -> AttemptView {
        AttemptView {
            number: 1,
            plan: Vec::new(),
            answers: Vec::new(),
            marks: Vec::new(),
            current: 3,
            token: "00000000".into(),
            started_at: 0,
            deadline_at: None,
            result: Some(AttemptResult {
                finished_at: 1,
                score: 3,
                total: 3,
                passed: true,
                ended_by: EndedBy::Answered,
            }),
        }
    }

    fn sample_of(o: &Outcome) -> Option<(i64, String, String)> {
        o.commands().find_map(|c| match c {
            Command::IssueSample {
                version,
                full_name,
                postal_address,
                ..
            } => Some((*version, full_name.clone(), postal_address.clone())),
            _ => None,
        })
    }

    #[test]
    fn missing_name_and_address_are_asked_for_then_the_sample_follows() {
        let mut w = world();
        enrollment(&mut w).attempts.push(passed_attempt());
        enrollment(&mut w).form.remove("address");
        enrollment(&mut w).form.remove("surname");
        enrollment(&mut w).form.remove("name");
        enrollment(&mut w).form.remove("patronymic");
        w.now = at(26, 0);
        let o = window(&w, Notice::Ended);
        assert_eq!(o.dialogue, Dialogue::SampleName { enrollment: 5 });
        assert!(sample_of(&o).is_none());
        let text = texts_of(&o);
        assert!(text.contains("сдана — поздравляем"), "{text}");
        assert!(text.contains("фамилия, имя и отчество"), "{text}");
        assert!(o.commands().any(|c| matches!(c, Command::CompleteJob(_))));
        // A wrong name is explained; the question stays.
        let asking = Dialogue::SampleName { enrollment: 5 };
        let o = w.step(asking.clone(), Input::Text("Иванова".into()));
        assert_eq!(o.dialogue, asking);
        assert!(o.commands().next().is_none());
        // The name is kept in the application, then the address is asked for.
        let o = w.step(asking, Input::Text("иванова мария сергеевна".into()));
        assert_eq!(o.dialogue, Dialogue::SampleAddress { enrollment: 5 });
        let saved = o
            .commands()
            .find_map(|c| match c {
                Command::SaveForm { fields, .. } => Some(fields.clone()),
                _ => None,
            })
            .expect("the name is saved");
        assert_eq!(saved.get("surname").map(String::as_str), Some("Иванова"));
        assert_eq!(
            saved.get("patronymic").map(String::as_str),
            Some("Сергеевна")
        );
        assert!(sample_of(&o).is_none());
        let text = texts_of(&o);
        assert!(text.contains("Иванова Мария Сергеевна"), "{text}");
        assert!(text.contains("почтовый адрес с индексом"), "{text}");
        enrollment(&mut w).form = saved;
        // The address by letter (an email-only learner answers the letter): the sample.
        let o = w.step(
            Dialogue::SampleAddress { enrollment: 5 },
            Input::Letter {
                subject: "Re: адрес".into(),
                text: "620014, г. Екатеринбург, ул. Ленина, д. 5, кв. 12".into(),
            },
        );
        assert_eq!(o.dialogue, Dialogue::Idle);
        let (version, name, address) = sample_of(&o).expect("the sample is made");
        assert_eq!(version, 1);
        assert_eq!(name, "Иванова Мария Сергеевна");
        assert!(address.starts_with("620014"), "{address}");
        assert!(texts_of(&o).contains("Готовим образец"));
    }

    #[test]
    fn staff_hear_when_the_data_stay_missing() {
        let mut w = world();
        enrollment(&mut w).attempts.push(passed_attempt());
        enrollment(&mut w).form.remove("address");
        w.now = at(29, 0);
        let o = window(&w, Notice::DataMissing);
        assert_eq!(o.dialogue, Dialogue::SampleAddress { enrollment: 5 });
        assert!(o.commands().any(|c| matches!(
            c,
            Command::AlertStaff(StaffAlert::SampleDataMissing {
                enrollment: 5,
                name: false,
                address: true
            })
        )));
        assert!(texts_of(&o).contains("Напоминаем"), "{}", texts_of(&o));
        // Given meanwhile, or not passed: nothing.
        let mut given = world();
        given.now = at(29, 0);
        given.learner.enrollments[0].attempts.push(passed_attempt());
        assert!(window(&given, Notice::DataMissing).effects.is_empty());
        let mut failed = world();
        failed.now = at(29, 0);
        failed.learner.enrollments[0].form.remove("address");
        assert!(window(&failed, Notice::DataMissing).effects.is_empty());
    }

    #[test]
    fn a_learner_without_telegram_gets_the_link_to_take_the_test_in_the_bot() {
        let mut w = world();
        w.learner.tg_user_id = None;
        w.now = at(20, 0);
        let o = window(&w, Notice::Opened);
        let reply = o.replies().next().expect("a notice");
        let link = reply
            .all_buttons()
            .find_map(|b| match b {
                Button::Url { url, .. } => Some(url.clone()),
                _ => None,
            })
            .expect("a link button");
        assert_eq!(
            link,
            "https://t.me/uchbot_test_bot?start=link_a1b2c3d4e5f60718"
        );
        let letter = crate::journey::reply::letter_text(reply);
        assert!(letter.contains("Итоговая аттестация по курсу"), "{letter}");
        assert!(letter.contains(&link), "{letter}");
        assert!(o.commands().any(|c| matches!(c, Command::CompleteJob(_))));
        // The warnings carry the link; the last one tells staff too.
        w.now = at(22, 0);
        let o = window(&w, Notice::Closing { days: 3 });
        assert!(buttons_of(&o).contains(&"Пройти тест в Telegram".to_owned()));
        assert!(!o.commands().any(|c| matches!(c, Command::AlertStaff(_))));
        w.now = at(24, 0);
        let o = window(&w, Notice::Closing { days: 1 });
        assert!(o.commands().any(|c| matches!(
            c,
            Command::AlertStaff(StaffAlert::TestNotTakenByLetter { enrollment: 5 })
        )));
        // Without the bot's username the letter says how to reach the school instead.
        w.school.bot_username.clear();
        w.now = at(20, 0);
        let o = window(&w, Notice::Opened);
        assert!(buttons_of(&o).is_empty());
        assert!(
            texts_of(&o).contains("teach@example.org"),
            "{}",
            texts_of(&o)
        );
        // A learner in Telegram: no staff alert on the last day.
        let mut tg = world();
        tg.now = at(24, 0);
        let o = window(&tg, Notice::Closing { days: 1 });
        assert!(!o.commands().any(|c| matches!(c, Command::AlertStaff(_))));
    }
}
