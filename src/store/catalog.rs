//! The catalog in the database: imported from the catalog file in one transaction, read back
//! whole (it is small) into [`Catalog`].
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::{from_json, to_json, Result, StoreError};
use crate::domain::catalog::{
    Attestation, Catalog, Course, DocumentKind, Group, Lesson, Money, Offer, ProgramKind, Question,
    QuestionKind,
};

/// What an import changed, for the operator.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub unchanged: bool,
    pub added: BTreeMap<&'static str, usize>,
    pub updated: BTreeMap<&'static str, usize>,
    pub withdrawn: BTreeMap<&'static str, usize>,
}

/// A digest of the catalog's content: equal digests mean nothing to import.
pub fn fingerprint(catalog: &Catalog) -> String {
    hex::encode(Sha256::digest(to_json(catalog).as_bytes()))
}

pub async fn version(conn: &mut AnyConnection) -> Result<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT value FROM catalog_meta WHERE key = 'version'")
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Upserts every entry of `catalog` and withdraws (deactivates) the entries the file no
/// longer has; rows are never deleted because enrollments refer to them. The caller owns the
/// transaction, so a failure leaves nothing half-imported.
pub async fn import(conn: &mut AnyConnection, catalog: &Catalog) -> Result<ImportReport> {
    let digest = fingerprint(catalog);
    if version(conn).await?.as_deref() == Some(digest.as_str()) {
        return Ok(ImportReport {
            unchanged: true,
            ..Default::default()
        });
    }
    let before = load(conn).await?;
    let mut report = ImportReport::default();
    diff(&before, catalog, &mut report);

    for table in ["questions", "lessons", "course_groups", "courses"] {
        sqlx::query(&format!("UPDATE {table} SET active = 0"))
            .execute(&mut *conn)
            .await?;
    }
    for (position, course) in catalog.courses.iter().enumerate() {
        upsert_course(conn, course, position as i64).await?;
        for (gpos, group) in course.groups.iter().enumerate() {
            upsert_group(conn, group, gpos as i64).await?;
            for lesson in &group.lessons {
                upsert_lesson(conn, &group.id, lesson).await?;
            }
        }
        for (qpos, question) in course.attestation.questions.iter().enumerate() {
            upsert_question(conn, &course.id, question, qpos as i64).await?;
        }
    }
    set_meta(conn, "school_offer", &to_json(&catalog.school_offer)).await?;
    set_meta(conn, "version", &digest).await?;
    Ok(report)
}

async fn set_meta(conn: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO catalog_meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key.to_owned())
    .bind(value.to_owned())
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_course(conn: &mut AnyConnection, c: &Course, position: i64) -> Result<()> {
    let a = &c.attestation;
    sqlx::query(
        "INSERT INTO courses (id, position, program, title, description, hours, price_kopecks, \
         format, document, offer, pass_percent, max_attempts, pause_minutes, time_limit_minutes, \
         questions_per_attempt, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1) \
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, program = excluded.program, \
         title = excluded.title, description = excluded.description, hours = excluded.hours, \
         price_kopecks = excluded.price_kopecks, format = excluded.format, \
         document = excluded.document, offer = excluded.offer, \
         pass_percent = excluded.pass_percent, max_attempts = excluded.max_attempts, \
         pause_minutes = excluded.pause_minutes, time_limit_minutes = excluded.time_limit_minutes, \
         questions_per_attempt = excluded.questions_per_attempt, active = 1",
    )
    .bind(c.id.clone())
    .bind(position)
    .bind(c.program.code())
    .bind(c.title.clone())
    .bind(c.description.clone())
    .bind(i64::from(c.hours))
    .bind(c.price.kopecks())
    .bind(c.format.clone())
    .bind(c.document.code())
    .bind(c.offer.as_ref().map(to_json))
    .bind(i64::from(a.pass_percent))
    .bind(i64::from(a.max_attempts))
    .bind(i64::from(a.pause_minutes))
    .bind(a.time_limit_minutes.map(i64::from))
    .bind(a.questions_per_attempt.map(i64::from))
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_group(conn: &mut AnyConnection, g: &Group, position: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO course_groups (id, course_id, position, title, starts_on, ends_on, \
         test_opens_on, webinar_url, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
         ON CONFLICT (id) DO UPDATE SET course_id = excluded.course_id, \
         position = excluded.position, title = excluded.title, starts_on = excluded.starts_on, \
         ends_on = excluded.ends_on, test_opens_on = excluded.test_opens_on, \
         webinar_url = excluded.webinar_url, active = 1",
    )
    .bind(g.id.clone())
    .bind(g.course_id.clone())
    .bind(position)
    .bind(g.title.clone())
    .bind(g.starts_on.to_string())
    .bind(g.ends_on.to_string())
    .bind(g.test_opens_on.map(|d| d.to_string()))
    .bind(g.webinar_url.clone())
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_lesson(conn: &mut AnyConnection, group_id: &str, l: &Lesson) -> Result<()> {
    sqlx::query(
        "INSERT INTO lessons (id, group_id, starts_at, duration_minutes, topic, \
         webinar_session_id, materials, recording_url, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
         ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, \
         starts_at = excluded.starts_at, duration_minutes = excluded.duration_minutes, \
         topic = excluded.topic, webinar_session_id = excluded.webinar_session_id, \
         materials = excluded.materials, recording_url = excluded.recording_url, active = 1",
    )
    .bind(l.id.clone())
    .bind(group_id.to_owned())
    .bind(l.starts_at.timestamp())
    .bind(i64::from(l.duration_minutes))
    .bind(l.topic.clone())
    .bind(l.webinar_session_id.clone())
    .bind(to_json(&l.materials))
    .bind(l.recording_url.clone())
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_question(
    conn: &mut AnyConnection,
    course_id: &str,
    q: &Question,
    position: i64,
) -> Result<()> {
    let kind = match q.kind {
        QuestionKind::Single => "single",
        QuestionKind::Multiple => "multiple",
    };
    sqlx::query(
        "INSERT INTO questions (id, course_id, position, text, kind, options, correct, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
         ON CONFLICT (id) DO UPDATE SET course_id = excluded.course_id, \
         position = excluded.position, text = excluded.text, kind = excluded.kind, \
         options = excluded.options, correct = excluded.correct, active = 1",
    )
    .bind(q.id.clone())
    .bind(course_id.to_owned())
    .bind(position)
    .bind(q.text.clone())
    .bind(kind)
    .bind(to_json(&q.options))
    .bind(to_json(&q.correct))
    .execute(conn)
    .await?;
    Ok(())
}

type CourseRow = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);
type GroupRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);
type LessonRow = (
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
);
type QuestionRow = (String, String, String, String, String, String);

fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}"))
}

fn date(s: &str, id: &str) -> Result<NaiveDate> {
    s.parse().map_err(|_| corrupt("date of group", id))
}

/// The active catalog, in the file's order.
pub async fn load(conn: &mut AnyConnection) -> Result<Catalog> {
    let courses: Vec<CourseRow> = sqlx::query_as(
        "SELECT id, program, title, description, hours, price_kopecks, format, document, offer, \
         pass_percent, max_attempts, pause_minutes, time_limit_minutes, questions_per_attempt \
         FROM courses WHERE active = 1 ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let groups: Vec<GroupRow> = sqlx::query_as(
        "SELECT id, course_id, title, starts_on, ends_on, test_opens_on, webinar_url \
         FROM course_groups WHERE active = 1 ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let lessons: Vec<LessonRow> = sqlx::query_as(
        "SELECT id, group_id, starts_at, duration_minutes, topic, webinar_session_id, materials, \
         recording_url FROM lessons WHERE active = 1 ORDER BY starts_at, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let questions: Vec<QuestionRow> = sqlx::query_as(
        "SELECT id, course_id, text, kind, options, correct FROM questions \
         WHERE active = 1 ORDER BY position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let school_offer: Option<(String,)> =
        sqlx::query_as("SELECT value FROM catalog_meta WHERE key = 'school_offer'")
            .fetch_optional(&mut *conn)
            .await?;

    let mut catalog = Catalog {
        school_offer: match school_offer {
            Some((json,)) => from_json::<Option<Offer>>("school offer", &json)?,
            None => None,
        },
        courses: Vec::with_capacity(courses.len()),
    };
    for (
        id,
        program,
        title,
        description,
        hours,
        price,
        format,
        document,
        offer,
        pass,
        max,
        pause,
        limit,
        per,
    ) in courses
    {
        catalog.courses.push(Course {
            program: ProgramKind::from_code(&program)
                .ok_or_else(|| corrupt("program of course", &id))?,
            document: DocumentKind::from_code(&document)
                .ok_or_else(|| corrupt("document of course", &id))?,
            title,
            description,
            hours: hours as u32,
            price: Money(price),
            format,
            offer: offer.map(|o| from_json("offer", &o)).transpose()?,
            attestation: Attestation {
                pass_percent: pass as u32,
                max_attempts: max as u32,
                pause_minutes: pause as u32,
                time_limit_minutes: limit.map(|v| v as u32),
                questions_per_attempt: per.map(|v| v as u32),
                questions: Vec::new(),
            },
            groups: Vec::new(),
            id,
        });
    }
    for (id, course_id, title, starts_on, ends_on, test_opens_on, webinar_url) in groups {
        let group = Group {
            starts_on: date(&starts_on, &id)?,
            ends_on: date(&ends_on, &id)?,
            test_opens_on: test_opens_on.map(|d| date(&d, &id)).transpose()?,
            course_id: course_id.clone(),
            title,
            webinar_url,
            lessons: Vec::new(),
            id,
        };
        if let Some(course) = catalog.courses.iter_mut().find(|c| c.id == course_id) {
            course.groups.push(group);
        }
    }
    for (id, group_id, starts_at, duration, topic, session, materials, recording) in lessons {
        let lesson = Lesson {
            starts_at: DateTime::from_timestamp(starts_at, 0)
                .ok_or_else(|| corrupt("start of lesson", &id))?,
            duration_minutes: duration as u32,
            topic,
            webinar_session_id: session,
            materials: from_json("materials", &materials)?,
            recording_url: recording,
            id,
        };
        if let Some(group) = catalog
            .courses
            .iter_mut()
            .flat_map(|c| c.groups.iter_mut())
            .find(|g| g.id == group_id)
        {
            group.lessons.push(lesson);
        }
    }
    for (id, course_id, text, kind, options, correct) in questions {
        let question = Question {
            kind: match kind.as_str() {
                "single" => QuestionKind::Single,
                "multiple" => QuestionKind::Multiple,
                _ => return Err(corrupt("kind of question", &id)),
            },
            text,
            options: from_json("options", &options)?,
            correct: from_json("correct answers", &correct)?,
            id,
        };
        if let Some(course) = catalog.courses.iter_mut().find(|c| c.id == course_id) {
            course.attestation.questions.push(question);
        }
    }
    Ok(catalog)
}

fn diff(before: &Catalog, after: &Catalog, report: &mut ImportReport) {
    fn count<T: PartialEq>(
        report: &mut ImportReport,
        what: &'static str,
        before: &[(&str, &T)],
        after: &[(&str, &T)],
    ) {
        for (id, item) in after {
            match before.iter().find(|(b, _)| b == id) {
                None => *report.added.entry(what).or_default() += 1,
                Some((_, old)) if old != item => *report.updated.entry(what).or_default() += 1,
                Some(_) => {}
            }
        }
        for (id, _) in before {
            if !after.iter().any(|(a, _)| a == id) {
                *report.withdrawn.entry(what).or_default() += 1;
            }
        }
    }
    fn shallow(c: &Course) -> Course {
        Course {
            groups: Vec::new(),
            attestation: Attestation {
                questions: Vec::new(),
                ..c.attestation.clone()
            },
            ..c.clone()
        }
    }
    let courses = |c: &Catalog| -> Vec<(String, Course)> {
        c.courses
            .iter()
            .map(|c| (c.id.clone(), shallow(c)))
            .collect()
    };
    let groups = |c: &Catalog| -> Vec<(String, Group)> {
        c.courses
            .iter()
            .flat_map(|c| c.groups.iter())
            .map(|g| {
                (
                    g.id.clone(),
                    Group {
                        lessons: Vec::new(),
                        ..g.clone()
                    },
                )
            })
            .collect()
    };
    let lessons = |c: &Catalog| -> Vec<(String, Lesson)> {
        c.courses
            .iter()
            .flat_map(|c| c.groups.iter())
            .flat_map(|g| g.lessons.iter())
            .map(|l| (l.id.clone(), l.clone()))
            .collect()
    };
    let questions = |c: &Catalog| -> Vec<(String, Question)> {
        c.courses
            .iter()
            .flat_map(|c| c.attestation.questions.iter())
            .map(|q| (q.id.clone(), q.clone()))
            .collect()
    };
    fn refs<T>(v: &[(String, T)]) -> Vec<(&str, &T)> {
        v.iter().map(|(id, t)| (id.as_str(), t)).collect()
    }
    count(
        report,
        "courses",
        &refs(&courses(before)),
        &refs(&courses(after)),
    );
    count(
        report,
        "groups",
        &refs(&groups(before)),
        &refs(&groups(after)),
    );
    count(
        report,
        "lessons",
        &refs(&lessons(before)),
        &refs(&lessons(after)),
    );
    count(
        report,
        "questions",
        &refs(&questions(before)),
        &refs(&questions(after)),
    );
}
