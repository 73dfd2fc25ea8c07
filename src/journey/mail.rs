//! The journey's side of the email channel: which document a mailed file is, which
//! enrollment mailed documents belong to, what a learner's reply to a letter means, and
//! the Telegram follow-up to documents that came by email.
use super::action::Action;
use super::documents::{self, kind_name, DocKind};
use super::reply::{Button, Reply};
use super::view::{LearnerView, Review};
use super::{Command, Ctx, Dialogue, Outcome, StaffAlert};
use crate::texts::Html;
use crate::tr;

/// Words that name each document, as learners write them in file names, subjects and
/// letters (lower-case; transliterations included: phones name files in Latin).
const PASSPORT: [&str; 4] = ["паспорт", "passport", "pasport", "паспорта"];
const EDUCATION: [&str; 8] = [
    "диплом",
    "аттестат",
    "образован",
    "diplom",
    "diploma",
    "attestat",
    "obrazovan",
    "education",
];
const NAME_CHANGE: [&str; 9] = [
    "брак",
    "смен",
    "фамили",
    "развод",
    "brak",
    "marriage",
    "smena",
    "familii",
    "name change",
];

fn kinds_named(text: &str) -> Vec<DocKind> {
    let text = text.to_lowercase();
    let mut kinds = Vec::new();
    for (kind, words) in [
        (DocKind::NameChange, &NAME_CHANGE[..]),
        (DocKind::Passport, &PASSPORT[..]),
        (DocKind::Education, &EDUCATION[..]),
    ] {
        if words.iter().any(|w| text.contains(w)) {
            kinds.push(kind);
        }
    }
    kinds
}

/// The document a mailed file is, when that is clear: its file name names exactly one
/// kind; or it is the letter's only file and the subject (else the text) names exactly
/// one. `None`: ask the learner.
pub fn classify(file_name: &str, subject: &str, text: &str, only_file: bool) -> Option<DocKind> {
    let by_name = kinds_named(file_name);
    if by_name.len() == 1 {
        return Some(by_name[0]);
    }
    if !by_name.is_empty() || !only_file {
        return None;
    }
    for context in [subject, text] {
        let kinds = kinds_named(context);
        if kinds.len() == 1 {
            return Some(kinds[0]);
        }
        if kinds.len() > 1 {
            return None;
        }
    }
    None
}

/// The enrollment mailed documents belong to: the newest one that is paid, has its
/// application form and is not under review or accepted yet.
pub fn enrollment_for_documents(learner: &LearnerView) -> Option<i64> {
    learner
        .enrollments
        .iter()
        .rev()
        .find(|e| {
            e.paid()
                && e.form_completed
                && !matches!(e.review, Some(Review::Pending | Review::Accepted))
        })
        .map(|e| e.id)
}

/// A learner's reply to one of the bot's letters. Where the conversation waits for text
/// that a letter can carry (the email code; later steps such as the confirmation of a
/// certificate sample), it goes through the same step as text typed in Telegram.
/// Elsewhere it is a question for staff: forwarded, and the learner told so.
pub fn letter(ctx: &Ctx, dialogue: Dialogue, subject: &str, text: &str) -> Outcome {
    // «Подтверждаю» in answer to the sample's letter, whatever the chat is doing.
    if super::sample::is_confirmation(text) {
        if let Some(outcome) = super::sample::confirm_typed(ctx, &dialogue) {
            return outcome;
        }
    }
    // Which document each mailed file is, in answer to the question in a letter.
    if let Some(outcome) = sorting_by_letter(ctx, &dialogue, text) {
        return outcome;
    }
    match dialogue {
        // Answers typed into a form or a document request belong to Telegram: a letter
        // that happens to arrive then must not become a field's value.
        d @ (Dialogue::Idle
        | Dialogue::AwaitingConsent { .. }
        | Dialogue::AwaitingEmail { .. }
        | Dialogue::Form { .. }
        | Dialogue::Documents { .. }) => question(ctx, d, subject, text),
        waiting => super::text_input(ctx, waiting, text),
    }
}

fn question(ctx: &Ctx, dialogue: Dialogue, subject: &str, text: &str) -> Outcome {
    if text.trim().is_empty() {
        return Outcome::stay(dialogue);
    }
    let enrollment = ctx.learner.enrollments.last().map(|e| e.id);
    Outcome::stay(dialogue)
        .run(Command::AlertStaff(StaffAlert::QuestionByEmail {
            enrollment,
            subject: subject.to_owned(),
            text: text.chars().take(3000).collect(),
        }))
        .say(Reply::text(tr!(ctx.texts, "mail-question-forwarded")))
}

/// Documents of an enrollment arrived by email (the receipt went by email): in Telegram,
/// the files whose kind is unclear get buttons to say which document each is, and the
/// learner sees what is still missing or the button to submit.
pub fn documents_arrived(
    ctx: &Ctx,
    dialogue: Dialogue,
    enrollment: i64,
    unsorted: &[(i64, String)],
) -> Outcome {
    let t = ctx.texts;
    let Some(e) = ctx.learner.enrollment(enrollment) else {
        return Outcome::stay(dialogue);
    };
    let mut out = Outcome::stay(dialogue.clone());
    for (document, file_name) in unsorted {
        let buttons = documents::required(e)
            .into_iter()
            .map(|kind| Button::action(kind_name(ctx, kind), Action::DocSort(*document, kind)))
            .collect();
        out = out.say(Reply::text(tr!(t, "mail-doc-which", file = file_name)).row(buttons));
    }
    if !unsorted.is_empty() {
        return out;
    }
    // Only take over the conversation when the learner is not in the middle of something.
    if matches!(dialogue, Dialogue::Idle | Dialogue::Documents { .. }) {
        let next = documents::ask_next(ctx, e);
        out = out.say(Reply::text(tr!(t, "mail-docs-arrived"))).then(next);
    } else {
        out = out.say(Reply::text(tr!(t, "mail-docs-arrived")));
    }
    out
}

/// The learner said which document a mailed file is.
pub fn sort_document(ctx: &Ctx, dialogue: Dialogue, document: i64, kind: DocKind) -> Outcome {
    let t = ctx.texts;
    let mut reply = Reply::text(tr!(t, "mail-doc-sorted", kind = kind_name(ctx, kind)));
    if let Some(enrollment) = enrollment_for_documents(ctx.learner) {
        reply = reply.button(Button::action(
            tr!(t, "btn-docs-next"),
            Action::Docs(enrollment),
        ));
    }
    Outcome::stay(dialogue)
        .run(Command::SortDocument { document, kind })
        .edit(reply)
}

/// What a learner's letter says about the numbered files of the question «which document
/// is each file»: numbers from 1 with the kind named after them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sorting {
    /// (number, kind), in the order written.
    pub told: Vec<(usize, DocKind)>,
    /// Numbers written with no document (or more than one) named after them.
    pub unclear: Vec<usize>,
}

/// Reads the answer to the question about `files` numbered files: lines such as
/// «1 — паспорт», «2. диплом», «1) свидетельство о браке, 2 аттестат»; with one file, a
/// short letter naming one document; with several, as many lines as files, each naming
/// one document, in order. `None`: the letter is not such an answer.
pub fn parse_sorting(text: &str, files: usize) -> Option<Sorting> {
    if files == 0 {
        return None;
    }
    // Numbered items: a piece of a line (split at commas and semicolons) that starts with
    // a number; the pieces after it on the same line belong to it.
    let mut items: Vec<(usize, String)> = Vec::new();
    for line in text.lines() {
        let mut open = false;
        for piece in line.split([',', ';']) {
            let piece = piece
                .trim()
                .trim_start_matches(['№', '#', '-', '•', '*', ' '])
                .trim_start();
            let digits: String = piece.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && digits.len() <= 3 {
                let n: usize = digits.parse().unwrap_or(0);
                let rest = &piece[digits.len()..];
                // «1 — паспорт», «1. паспорт», «1) паспорт»; not «10:00» or «1985».
                let time = rest
                    .strip_prefix([':', '.'])
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
                if !time && !rest.starts_with(|c: char| c.is_ascii_digit()) {
                    open = (1..=files).contains(&n);
                    if open {
                        items.push((n, rest.to_owned()));
                    }
                    continue;
                }
            }
            if open {
                if let Some((_, text)) = items.last_mut() {
                    text.push(' ');
                    text.push_str(piece);
                }
            }
        }
    }
    if !items.is_empty() {
        let mut sorting = Sorting::default();
        for (n, text) in items {
            match kinds_named(&text)[..] {
                [kind] => sorting.told.push((n, kind)),
                _ => sorting.unclear.push(n),
            }
        }
        return Some(sorting);
    }
    // No numbers: one file and a short letter that names one document; or one line per
    // file, each naming one document. A question («паспорт нужен с пропиской?») is not
    // an answer.
    if text.contains('?') {
        return None;
    }
    let naming: Vec<Vec<DocKind>> = text
        .lines()
        .map(kinds_named)
        .filter(|k| !k.is_empty())
        .collect();
    if files == 1 {
        let kinds = kinds_named(text);
        return (kinds.len() == 1 && text.chars().count() <= 120).then(|| Sorting {
            told: vec![(1, kinds[0])],
            unclear: Vec::new(),
        });
    }
    if naming.len() == files && naming.iter().all(|k| k.len() == 1) {
        return Some(Sorting {
            told: naming
                .iter()
                .enumerate()
                .map(|(i, k)| (i + 1, k[0]))
                .collect(),
            unclear: Vec::new(),
        });
    }
    None
}

/// Files as letters number them: «1. «scan001.pdf»», one a line (HTML-escaped).
pub fn numbered_files<'a>(files: impl IntoIterator<Item = &'a (i64, String)>) -> String {
    files
        .into_iter()
        .enumerate()
        .map(|(i, (_, name))| format!("{}. «{}»", i + 1, super::reply::escape(name)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A letter that tells which document each unsorted file is: each one told is sorted
/// (the same guard as the Telegram buttons), the learner told what was recorded and asked
/// again about the files still unclear (numbered anew, as the next letter will be read).
fn sorting_by_letter(ctx: &Ctx, dialogue: &Dialogue, text: &str) -> Option<Outcome> {
    let files = &ctx.learner.unsorted;
    let sorting = parse_sorting(text, files.len())?;
    let t = ctx.texts;
    let mut out = Outcome::stay(dialogue.clone());
    let mut done = std::collections::BTreeSet::new();
    let mut recorded = Vec::new();
    for &(n, kind) in &sorting.told {
        if !done.insert(n) {
            continue;
        }
        let (document, file_name) = &files[n - 1];
        out = out.run(Command::SortDocument {
            document: *document,
            kind,
        });
        recorded.push(tr!(
            t,
            "mail-sort-recorded-line",
            file = file_name,
            kind = kind_name(ctx, kind)
        ));
    }
    let left: Vec<&(i64, String)> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| !done.contains(&(i + 1)))
        .map(|(_, f)| f)
        .collect();
    let mut parts = Vec::new();
    if !recorded.is_empty() {
        parts.push(tr!(
            t,
            "mail-sort-recorded",
            lines = Html(recorded.join("\n"))
        ));
    }
    if !left.is_empty() {
        parts.push(tr!(
            t,
            "mail-sort-again",
            files = Html(numbered_files(left)),
            how = Html(tr!(t, "mail-sort-how"))
        ));
    }
    Some(out.say(Reply::text(parts.join("\n\n"))))
}

/// A letter to the learner bounced. While they wait for the email code, the address was
/// most likely mistyped: ask for it again. Otherwise tell them their letters do not
/// arrive.
pub fn letter_bounced(ctx: &Ctx, dialogue: Dialogue, email: &str) -> Outcome {
    let t = ctx.texts;
    match dialogue {
        Dialogue::AwaitingCode {
            email: waiting,
            then,
        } if waiting.eq_ignore_ascii_case(email) => Outcome::stay(Dialogue::AwaitingEmail { then })
            .say(Reply::text(tr!(t, "mail-code-bounced", email = email))),
        other => Outcome::stay(other).say(Reply::text(tr!(
            t,
            "mail-letters-bounced",
            email = email,
            school_email = &ctx.school.email
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey::testkit::{paid_enrollment, registered, texts_of, World};
    use crate::journey::view::CertificateView;
    use crate::journey::Input;

    fn letter_input(text: &str) -> Input {
        Input::Letter {
            subject: "Re: письмо".into(),
            text: text.into(),
        }
    }

    fn asks_staff(o: &Outcome) -> bool {
        o.commands()
            .any(|c| matches!(c, Command::AlertStaff(StaffAlert::QuestionByEmail { .. })))
    }

    #[test]
    fn a_letter_at_rest_is_a_question_for_staff() {
        let world = World::new(registered());
        let o = world.step(Dialogue::Idle, letter_input("Когда начнутся занятия?"));
        assert!(asks_staff(&o));
        assert!(texts_of(&o).contains("передали его сотрудникам"));
        assert_eq!(o.dialogue, Dialogue::Idle);
    }

    #[test]
    fn a_letter_never_becomes_a_form_answer() {
        let world = World::new(registered());
        let form = Dialogue::Form {
            enrollment: 5,
            field: crate::journey::application::Field::Surname,
            review: false,
        };
        let o = world.step(form.clone(), letter_input("Иванова"));
        assert!(asks_staff(&o));
        assert_eq!(o.dialogue, form);
    }

    #[test]
    fn the_email_code_by_letter_goes_through_the_code_step() {
        let world = World::new(registered());
        let waiting = Dialogue::AwaitingCode {
            email: "masha@example.org".into(),
            then: None,
        };
        let o = world.step(waiting, letter_input("123456"));
        assert!(!asks_staff(&o));
    }

    #[test]
    fn confirming_the_sample_by_letter_confirms_it() {
        let mut learner = registered();
        learner
            .enrollments
            .push(crate::journey::view::EnrollmentView {
                certificate: Some(CertificateView {
                    registration_number: "ПК-2026-0001".into(),
                    full_name: "Иванова Мария Сергеевна".into(),
                    postal_address: "620014, г. Екатеринбург".into(),
                    version: 1,
                    confirmed: false,
                    printed: false,
                    tracking_number: None,
                }),
                ..paid_enrollment()
            });
        let world = World::new(learner);
        let o = world.step(Dialogue::Idle, letter_input("Подтверждаю"));
        assert!(!asks_staff(&o));
        assert!(o
            .commands()
            .any(|c| matches!(c, Command::ConfirmSample { enrollment: 5, .. })));
    }

    #[test]
    fn answers_about_numbered_files_are_read() {
        use DocKind::*;
        let told = |text: &str, files| parse_sorting(text, files).map(|s| s.told);
        assert_eq!(
            told("1 — паспорт\n2 — диплом", 2),
            Some(vec![(1, Passport), (2, Education)])
        );
        assert_eq!(
            told(
                "Здравствуйте!\n1. Аттестат\n2) свидетельство о браке\nМария",
                2
            ),
            Some(vec![(1, Education), (2, NameChange)])
        );
        assert_eq!(
            told("1 - документ об образовании, 2 - смена фамилии", 2),
            Some(vec![(1, Education), (2, NameChange)])
        );
        assert_eq!(told("№2: паспорт", 2), Some(vec![(2, Passport)]));
        // One file: the document alone.
        assert_eq!(told("Это паспорт", 1), Some(vec![(1, Passport)]));
        // Several files, one line each, in order.
        assert_eq!(
            told("паспорт\nдиплом", 2),
            Some(vec![(1, Passport), (2, Education)])
        );
        // Not understood: a number with nothing (or two documents) after it.
        let s = parse_sorting("1 — паспорт\n2 — не знаю\n3 паспорт и диплом", 3).unwrap();
        assert_eq!(s.told, vec![(1, Passport)]);
        assert_eq!(s.unclear, vec![2, 3]);
        // Not an answer about files at all.
        assert_eq!(told("Когда начнутся занятия?", 2), None);
        assert_eq!(told("Паспорт нужен с пропиской?", 1), None);
        assert_eq!(told("Встреча в 10:00", 2), None);
        assert_eq!(told("1 — паспорт", 0), None);
        // Numbers out of range are not files.
        assert_eq!(told("2026 год, паспорт", 2), None);
    }

    fn with_unsorted(files: &[(i64, &str)]) -> World {
        let mut learner = registered();
        learner.tg_user_id = None;
        learner.unsorted = files.iter().map(|(i, f)| (*i, f.to_string())).collect();
        World::new(learner)
    }

    fn sorted(o: &Outcome) -> Vec<(i64, DocKind)> {
        o.commands()
            .filter_map(|c| match c {
                Command::SortDocument { document, kind } => Some((*document, *kind)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_reply_sorts_the_files_and_asks_again_about_the_rest() {
        let world = with_unsorted(&[(41, "scan001.pdf"), (42, "scan002.pdf"), (43, "x.jpg")]);
        let o = world.step(Dialogue::Idle, letter_input("1 — паспорт\n3 — ???"));
        assert_eq!(sorted(&o), vec![(41, DocKind::Passport)]);
        assert!(!asks_staff(&o));
        let text = texts_of(&o);
        assert!(text.contains("«scan001.pdf» — Паспорт"), "{text}");
        // The rest numbered anew, as the next answer will be read.
        assert!(text.contains("1. «scan002.pdf»"), "{text}");
        assert!(text.contains("2. «x.jpg»"), "{text}");

        let o = world.step(
            Dialogue::Idle,
            letter_input("1 паспорт, 2 диплом, 3 смена фамилии"),
        );
        assert_eq!(
            sorted(&o),
            vec![
                (41, DocKind::Passport),
                (42, DocKind::Education),
                (43, DocKind::NameChange)
            ]
        );
        assert!(!texts_of(&o).contains("Ответьте"));
        // Without unsorted files, the same letter is a question for staff.
        let o = with_unsorted(&[]).step(Dialogue::Idle, letter_input("1 — паспорт"));
        assert!(asks_staff(&o));
    }

    #[test]
    fn file_names_subjects_and_texts_name_documents() {
        assert_eq!(
            classify("Паспорт Ивановой.pdf", "", "", false),
            Some(DocKind::Passport)
        );
        assert_eq!(
            classify("scan_diploma.jpg", "", "", false),
            Some(DocKind::Education)
        );
        assert_eq!(
            classify("svidetelstvo_o_brake.pdf", "", "", false),
            Some(DocKind::NameChange)
        );
        assert_eq!(
            classify("IMG_0042.jpg", "Аттестат", "", true),
            Some(DocKind::Education)
        );
        assert_eq!(
            classify("IMG_0042.jpg", "Документы", "Высылаю паспорт", true),
            Some(DocKind::Passport)
        );
        // Several files and only the subject names a kind: ask.
        assert_eq!(classify("IMG_0042.jpg", "Паспорт", "", false), None);
        // The subject names two kinds: ask.
        assert_eq!(classify("scan.pdf", "Паспорт и диплом", "", true), None);
        assert_eq!(classify("scan.pdf", "", "", true), None);
    }
}
