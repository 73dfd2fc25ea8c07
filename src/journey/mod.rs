//! The learner's journey as a pure state machine: `step(ctx, dialogue, input) -> Outcome`.
//!
//! Inputs come from any channel (a Telegram message or button, a letter, the payment
//! provider, staff, a timer); the outcome is the next dialogue state plus effects as data
//! (replies, commands for the store and the outside world). Runtime adapters load the
//! [`Ctx`] snapshot, apply the effects and feed the results of external calls back in as
//! [`Event`]s. Nothing here touches the network, the database or the clock.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::catalog::Catalog;
use crate::texts::Texts;
use crate::tr;

pub mod action;
pub mod application;
pub mod attestation;
pub mod bad_input;
pub mod browse;
pub mod documents;
pub mod mail;
pub mod payment;
pub mod privacy;
pub mod registration;
pub mod reply;
pub mod sample;
pub mod schedule;
pub mod status;
pub mod view;

use action::Action;
use application::Field;
use documents::{DocKind, FileRefusal, IncomingFile};
use reply::{Button, Reply};
use view::LearnerView;

/// The school as the journey sees it (from configuration).
#[derive(Debug, Clone)]
pub struct School {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub privacy_policy_url: String,
    pub consent_version: String,
    pub tz: chrono_tz::Tz,
    pub max_document_bytes: u64,
    pub payment_mode: PaymentMode,
    pub bank_details: String,
    /// The bot's @username (configured, or read from getMe at start); empty: unknown.
    pub bot_username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMode {
    /// YooKassa: a payment link.
    Online,
    /// No provider: bank details, staff mark the order paid.
    BankTransfer,
    /// `uchbot shell`: a clearly marked demo payment.
    Demo,
}

pub struct Ctx<'a> {
    pub texts: &'a Texts,
    pub catalog: &'a Catalog,
    pub school: &'a School,
    pub now: DateTime<Utc>,
    pub learner: &'a LearnerView,
    /// The bot message whose button was pressed (edited in place; kept as evidence).
    pub message_id: Option<i32>,
    /// Randomness the runtime draws for this step (the shuffle of a new attempt, the token
    /// of the next question), so that the step itself stays a function of its input.
    pub entropy: u64,
}

impl Ctx<'_> {
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.with_timezone(&self.school.tz).date_naive()
    }

    pub fn ts(&self) -> i64 {
        self.now.timestamp()
    }
}

/// Where the conversation stands: which question the bot waits an answer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Dialogue {
    #[default]
    Idle,
    AwaitingConsent {
        then: Option<Intent>,
    },
    AwaitingEmail {
        then: Option<Intent>,
    },
    AwaitingCode {
        email: String,
        then: Option<Intent>,
    },
    Form {
        enrollment: i64,
        field: Field,
        /// Editing one field from the summary: go back to the summary after it.
        review: bool,
    },
    Documents {
        enrollment: i64,
        kind: DocKind,
        replace: bool,
    },
    /// The correct full name for the document's sample.
    SampleName {
        enrollment: i64,
    },
    /// The correct postal address (with its index) for the letter with the document.
    SampleAddress {
        enrollment: i64,
    },
}

/// What the learner set out to do before the bot had to ask for consent or an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum Intent {
    Enroll { group_id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Help,
    Status,
    Cancel,
    Catalog,
    MyData,
    Forget,
    Schedule,
    Materials,
    /// `/test`: the final test.
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Start {
        payload: Option<String>,
    },
    Command(Cmd),
    Text(String),
    Button(Action),
    /// Callback data that does not parse: old, forged or from another bot version.
    BadButton,
    File(IncomingFile),
    /// Stickers, voice, locations and other things the bot cannot use.
    Unsupported,
    Event(Event),
    /// A learner's letter to the school's mailbox (a reply to the bot's letter, or a
    /// question), its quoted part removed: see [`mail::letter`].
    Letter {
        subject: String,
        text: String,
    },
}

/// Results of external work and decisions made elsewhere, fed back into the journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    EmailCodeSent {
        email: String,
    },
    EmailConfirmed {
        email: String,
    },
    EmailTaken {
        email: String,
    },
    OfferAccepted {
        enrollment: i64,
        group_id: String,
    },
    PaymentLink {
        enrollment: i64,
        url: String,
    },
    PaymentByTransfer {
        enrollment: i64,
    },
    PaymentDemo {
        enrollment: i64,
    },
    PaymentUnavailable {
        enrollment: i64,
    },
    PaymentStillPending {
        enrollment: i64,
    },
    /// The provider could not be asked whether the learner paid (down or slow); the
    /// re-check asks again by itself.
    PaymentCheckUnavailable {
        enrollment: i64,
    },
    /// Trusted: read back from the provider, marked by staff, or the shell's demo.
    PaymentConfirmed {
        enrollment: i64,
        via: &'static str,
    },
    PaymentCanceled {
        enrollment: i64,
    },
    DocumentStored {
        enrollment: i64,
        kind: DocKind,
        file_name: String,
        duplicate: bool,
    },
    DocumentRefused {
        enrollment: i64,
        reason: FileRefusal,
    },
    ReviewAccepted {
        enrollment: i64,
    },
    DocumentReturned {
        enrollment: i64,
        kind: DocKind,
        file_name: String,
        reason: String,
    },
    /// Consent withdrawn, personal data destroyed (this many document files).
    Forgotten {
        documents: usize,
    },
    /// The scheduler's webinar reminder for one lesson: `link` is the learner's personal
    /// link, or the group's general room when `personal` is false.
    LessonReminder {
        job: JobRef,
        lesson_id: String,
        link: String,
        personal: bool,
    },
    /// The scheduler's notice that a lesson has ended: its materials and recording.
    LessonEnded {
        job: JobRef,
        lesson_id: String,
    },
    /// Documents for this enrollment arrived by email and were filed; `unsorted` are the
    /// (document id, file name) of those whose kind the learner must tell.
    DocumentsByEmail {
        enrollment: i64,
        unsorted: Vec<(i64, String)>,
    },
    /// The scheduler, about the final test of an enrollment: it opened, closes soon, or the
    /// group has ended (the test is closed; a passed test makes the document's sample).
    TestWindow {
        job: JobRef,
        enrollment: i64,
        notice: attestation::Notice,
    },
    /// The scheduler: an attempt's time limit has run out.
    AttemptTimeUp {
        job: JobRef,
        enrollment: i64,
        attempt: i64,
    },
    /// A letter to this address bounced (the mail server says it cannot be delivered).
    LetterBounced {
        email: String,
    },
}

/// The scheduler job an event comes from: the step that acts on it finishes the job in the
/// same transaction ([`Command::CompleteJob`]), so a notice is queued exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    pub id: i64,
    pub worker: String,
}

/// State changes and outside work, executed by the runtime. Commands marked as guards in
/// [`Command::is_guard`] return whether they applied; when one did not, the whole outcome
/// is dropped (another update or instance already did it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    RecordConsent {
        granted: bool,
    },
    SendEmailCode {
        email: String,
    },
    SpendCodeAttempt,
    ConfirmEmail {
        email: String,
    },
    AcceptOffer {
        group_id: String,
    },
    RequestPayment {
        enrollment: i64,
        fresh: bool,
    },
    CheckPayment {
        enrollment: i64,
    },
    MarkPaid {
        enrollment: i64,
        via: &'static str,
    },
    SaveForm {
        enrollment: i64,
        fields: std::collections::BTreeMap<String, String>,
        completed: bool,
    },
    StoreDocument {
        enrollment: i64,
        kind: DocKind,
        file: IncomingFile,
        replace: bool,
    },
    Submit {
        enrollment: i64,
    },
    AlertStaff(StaffAlert),
    /// Send the learner everything stored about them, as a file.
    ExportData,
    /// Withdraw consent and destroy personal data (contract records kept for their term).
    Forget,
    /// The learner chose a time zone (an IANA name).
    SetTimezone {
        tz: String,
    },
    /// Guard: finishes the scheduler job behind this step; false when this worker no longer
    /// holds it (its lease ran out and another worker took over).
    CompleteJob(JobRef),
    /// Guard: the learner said which document a mailed file is; false when the file is not
    /// theirs or was sorted before.
    SortDocument {
        document: i64,
        kind: DocKind,
    },
    /// Guard: a new attempt at the final test; false when this number exists (a second press).
    StartAttempt {
        enrollment: i64,
        attempt: i64,
        plan: Vec<attestation::PlannedQuestion>,
        token: String,
        deadline_at: Option<i64>,
    },
    /// Guard: an attempt moves on (an answer, a mark, a new token, its end); false when its
    /// token is no longer `expected` (the same press twice, an older question).
    UpdateAttempt {
        enrollment: i64,
        attempt: i64,
        expected: String,
        progress: attestation::Progress,
        result: Option<view::AttemptResult>,
    },
    /// Guard: makes the sample of the document (version `version`: 1, or one more than the
    /// sample it corrects) and sends it — the PDF, then `notice` in Telegram; a letter with
    /// the PDF attached and `letter` as its text. False when that version exists or the data
    /// are confirmed already.
    IssueSample {
        enrollment: i64,
        version: i64,
        full_name: String,
        postal_address: String,
        notice: Reply,
        letter: String,
    },
    /// Guard: the learner confirmed this sample version; the data are locked. False when it
    /// is not the current version or was confirmed before.
    ConfirmSample {
        enrollment: i64,
        version: i64,
    },
}

impl Command {
    pub fn is_guard(&self) -> bool {
        matches!(
            self,
            Self::MarkPaid { .. }
                | Self::Submit { .. }
                | Self::CompleteJob(_)
                | Self::SortDocument { .. }
                | Self::StartAttempt { .. }
                | Self::UpdateAttempt { .. }
                | Self::IssueSample { .. }
                | Self::ConfirmSample { .. }
        )
    }

    /// Commands that call outside services: run after the step is committed, their result
    /// comes back as an [`Event`].
    pub fn is_external(&self) -> bool {
        matches!(
            self,
            Self::SendEmailCode { .. }
                | Self::ConfirmEmail { .. }
                | Self::AcceptOffer { .. }
                | Self::RequestPayment { .. }
                | Self::CheckPayment { .. }
                | Self::StoreDocument { .. }
                | Self::ExportData
                | Self::Forget
        )
    }
}

/// Alerts for the staff chat; the runtime renders them with the learner's name and course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAlert {
    NewLearner,
    OfferAccepted {
        enrollment: i64,
    },
    Paid {
        enrollment: i64,
    },
    PaymentCanceled {
        enrollment: i64,
    },
    ApplicationReady {
        enrollment: i64,
    },
    /// Documents arrived by email and were filed (the ids of the `documents` rows).
    DocumentsByEmail {
        enrollment: Option<i64>,
        documents: Vec<i64>,
    },
    /// A letter from an address no learner has (no learner: `alerts::queue_general`).
    UnknownSender {
        from: String,
        subject: String,
    },
    /// A final test attempt finished.
    TestResult {
        enrollment: i64,
        attempt: i64,
        score: i64,
        total: i64,
        passed: bool,
    },
    /// The learner confirmed the sample of their document: it can be printed.
    CertificateConfirmed {
        enrollment: i64,
    },
    /// The learner asked for a correction of the sample.
    CertificateCorrected {
        enrollment: i64,
        note: String,
    },
    /// A passed learner's sample still waits for the full name or the postal address
    /// their application lacks (asked when the group ended; `true`: missing).
    SampleDataMissing {
        enrollment: i64,
        name: bool,
        address: bool,
    },
    /// A learner without Telegram (letters only) has not passed the test a day before it
    /// closes: the test is taken in the bot, staff may call them.
    TestNotTakenByLetter {
        enrollment: i64,
    },
    /// A letter to this address bounced (with or without a known learner).
    LetterBounced {
        to: String,
        reason: String,
    },
    /// An outside service failed: payments, webinar, SMTP, IMAP.
    IntegrationFailure {
        service: String,
        detail: String,
    },
    /// The service that failed (and staff were told of) works again.
    IntegrationRecovered {
        service: String,
        /// Since when it had been failing (Unix seconds).
        since: i64,
    },
    /// The learner withdrew consent; their personal data was destroyed.
    ConsentWithdrawn {
        documents: usize,
    },
    /// A learner wrote a question (or a reply the bot cannot act on) by email.
    QuestionByEmail {
        enrollment: Option<i64>,
        subject: String,
        text: String,
    },
    /// A letter from a learner's address without proof that the learner sent it (no
    /// DKIM/DMARC pass from the trusted server): held for staff (the `mail_messages` id).
    LetterHeld {
        letter: i64,
        from: String,
        subject: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A new message to the learner.
    Say(Reply),
    /// Replace the message whose button was pressed (menus, navigation).
    Edit(Reply),
    /// The short answer to a button press.
    Toast(String),
    Do(Command),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub dialogue: Dialogue,
    pub effects: Vec<Effect>,
}

impl Outcome {
    pub fn stay(dialogue: Dialogue) -> Self {
        Self {
            dialogue,
            effects: Vec::new(),
        }
    }

    pub fn say(mut self, reply: Reply) -> Self {
        self.effects.push(Effect::Say(reply));
        self
    }

    pub fn edit(mut self, reply: Reply) -> Self {
        self.effects.push(Effect::Edit(reply));
        self
    }

    pub fn toast(mut self, text: String) -> Self {
        self.effects.push(Effect::Toast(text));
        self
    }

    pub fn run(mut self, command: Command) -> Self {
        self.effects.push(Effect::Do(command));
        self
    }

    /// This outcome's effects, then `next`'s, ending in `next`'s dialogue.
    pub fn then(mut self, next: Outcome) -> Self {
        self.effects.extend(next.effects);
        self.dialogue = next.dialogue;
        self
    }

    pub fn to(mut self, dialogue: Dialogue) -> Self {
        self.dialogue = dialogue;
        self
    }

    pub fn replies(&self) -> impl Iterator<Item = &Reply> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Say(r) | Effect::Edit(r) => Some(r),
            _ => None,
        })
    }

    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.effects.iter().filter_map(|e| match e {
            Effect::Do(c) => Some(c),
            _ => None,
        })
    }
}

/// The transition function.
pub fn step(ctx: &Ctx, dialogue: Dialogue, input: Input) -> Outcome {
    match input {
        Input::Start { payload } => registration::start(ctx, dialogue, payload.as_deref()),
        Input::Command(Cmd::Help) => Outcome::stay(dialogue).say(status::help(ctx)),
        Input::Command(Cmd::Status) => Outcome::stay(dialogue).say(status::status(ctx)),
        Input::Command(Cmd::Cancel) => cancel(ctx, dialogue),
        Input::Command(Cmd::Catalog) => Outcome::stay(dialogue).say(browse::sections(ctx)),
        Input::Command(Cmd::MyData) => privacy::my_data(dialogue),
        Input::Command(Cmd::Forget) => privacy::forget_request(ctx, dialogue),
        Input::Command(Cmd::Schedule) => schedule::open(ctx, dialogue),
        Input::Command(Cmd::Materials) => schedule::materials(ctx, dialogue),
        Input::Command(Cmd::Test) => attestation::open(ctx, dialogue),
        Input::Button(action) => button(ctx, dialogue, action),
        Input::BadButton => Outcome::stay(dialogue).toast(tr!(ctx.texts, "button-outdated")),
        Input::Text(text) => {
            let text = bad_input::clean(&text);
            match bad_input::refuse_long(ctx, &dialogue, &text) {
                Some(refusal) => refusal,
                None => text_input(ctx, dialogue, text.trim()),
            }
        }
        Input::File(file) => documents::file(ctx, dialogue, file),
        Input::Unsupported => Outcome::stay(dialogue.clone()).say(unsupported(ctx, &dialogue)),
        Input::Event(event) => on_event(ctx, dialogue, event),
        Input::Letter { subject, text } => mail::letter(ctx, dialogue, &subject, text.trim()),
    }
}

fn button(ctx: &Ctx, dialogue: Dialogue, action: Action) -> Outcome {
    use Action as A;
    match action {
        A::Consent(granted) => registration::consent(ctx, dialogue, granted),
        A::ResendCode => registration::resend_code(ctx, dialogue),
        A::ChangeEmail => registration::change_email(ctx, dialogue),
        A::Catalog => Outcome::stay(dialogue).edit(browse::sections(ctx)),
        A::Section(program, page) => {
            Outcome::stay(dialogue).edit(browse::section(ctx, program, page))
        }
        A::Course(id) => Outcome::stay(dialogue).edit(browse::course_card(ctx, &id)),
        A::Enroll(group) => browse::enroll(ctx, dialogue, &group),
        A::AcceptOffer(group) => browse::accept_offer(ctx, dialogue, &group),
        A::Status => Outcome::stay(dialogue).say(status::status(ctx)),
        A::Pay(e) => payment::button(ctx, dialogue, payment::PayButton::NewLink, e),
        A::CheckPayment(e) => payment::button(ctx, dialogue, payment::PayButton::Check, e),
        A::DemoPay(e) => payment::button(ctx, dialogue, payment::PayButton::Demo, e),
        A::Form(e) => application::open(ctx, dialogue, e),
        A::FormKeep(e, field) => application::keep(ctx, dialogue, e, field),
        A::FormChoice(e, field, n) => application::choice(ctx, dialogue, e, field, n),
        A::FormConfirm(e) => application::confirm(ctx, dialogue, e),
        A::FormEdit(e, field) => application::edit(ctx, dialogue, e, field),
        A::Docs(e) => documents::open(ctx, dialogue, e),
        A::DocAdd(e, kind) => documents::add(ctx, dialogue, e, kind, false),
        A::DocReplace(e, kind) => documents::add(ctx, dialogue, e, kind, true),
        A::Submit(e) => documents::submit(ctx, dialogue, e),
        A::ForgetConfirm => privacy::forget_confirmed(ctx),
        // Staff buttons are routed to the staff handler before the journey; one that
        // arrives here was pressed by a learner.
        A::Schedule => schedule::open(ctx, dialogue),
        A::Materials => schedule::materials(ctx, dialogue),
        A::LessonMaterials(lesson) => schedule::lesson_materials(ctx, dialogue, &lesson),
        A::TimeZone(offset) => schedule::choose_zone(ctx, dialogue, offset),
        A::ChangeTimeZone => schedule::ask_zone(ctx, dialogue),
        A::DocSort(document, kind) => mail::sort_document(ctx, dialogue, document, kind),
        A::Test => attestation::open(ctx, dialogue),
        A::TestStart(e) => attestation::start(ctx, dialogue, e),
        A::TestAnswer(key, n) => attestation::answer(ctx, dialogue, &key, Some(n)),
        A::TestDone(key) => attestation::answer(ctx, dialogue, &key, None),
        A::SampleConfirm(e, v) => sample::confirm(ctx, dialogue, e, v),
        A::SampleName(e, v) => sample::ask(ctx, dialogue, e, v, sample::Part::Name),
        A::SampleAddress(e, v) => sample::ask(ctx, dialogue, e, v, sample::Part::Address),
        A::StaffAccept(_) | A::StaffReturn(_) | A::StaffReturnDoc(_) | A::Staff(_) => {
            Outcome::stay(dialogue).toast(tr!(ctx.texts, "staff-only"))
        }
    }
}

pub(crate) fn text_input(ctx: &Ctx, dialogue: Dialogue, text: &str) -> Outcome {
    // «Подтверждаю»: the sample's confirmation typed, or sent as a reply to its letter.
    if sample::is_confirmation(text) {
        if let Some(outcome) = sample::confirm_typed(ctx, &dialogue) {
            return outcome;
        }
    }
    match dialogue {
        Dialogue::AwaitingEmail { then } => registration::email_given(ctx, then, text),
        Dialogue::AwaitingCode { email, then } => registration::code_given(ctx, email, then, text),
        Dialogue::Form {
            enrollment,
            field,
            review,
        } => application::answer(ctx, enrollment, field, review, text),
        d @ Dialogue::Documents { .. } => {
            Outcome::stay(d.clone()).say(documents::waiting_for_file(ctx, &d))
        }
        d @ Dialogue::AwaitingConsent { .. } => {
            Outcome::stay(d).say(registration::consent_request(ctx))
        }
        Dialogue::SampleName { enrollment } => {
            sample::answer(ctx, enrollment, sample::Part::Name, text)
        }
        Dialogue::SampleAddress { enrollment } => {
            sample::answer(ctx, enrollment, sample::Part::Address, text)
        }
        // /status asks a learner without an address for it (or for the code sent to it):
        // what they then type is taken as asked, whatever the dialogue went through since.
        Dialogue::Idle if registration::email_pending(ctx) => {
            match ctx
                .learner
                .pending_code
                .as_ref()
                .filter(|p| p.expires_at > ctx.ts())
            {
                Some(p) => registration::code_given(ctx, p.email.clone(), None, text),
                None => registration::email_given(ctx, None, text),
            }
        }
        Dialogue::Idle => Outcome::stay(Dialogue::Idle).say(status::not_understood(ctx)),
    }
}

fn cancel(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    let text = match dialogue {
        Dialogue::Idle => tr!(ctx.texts, "cancel-nothing"),
        _ => tr!(ctx.texts, "cancel-done"),
    };
    Outcome::stay(Dialogue::Idle).say(
        Reply::text(text)
            .with_menu()
            .button(Button::action(tr!(ctx.texts, "btn-status"), Action::Status)),
    )
}

fn unsupported(ctx: &Ctx, dialogue: &Dialogue) -> Reply {
    match dialogue {
        Dialogue::Documents { .. } => documents::waiting_for_file(ctx, dialogue),
        _ => Reply::text(tr!(ctx.texts, "unsupported-message")),
    }
}

fn on_event(ctx: &Ctx, dialogue: Dialogue, event: Event) -> Outcome {
    use Event as E;
    match event {
        E::EmailCodeSent { email } => registration::code_sent(ctx, dialogue, &email),
        E::EmailConfirmed { email } => registration::email_confirmed(ctx, dialogue, &email),
        E::EmailTaken { email } => registration::email_taken(ctx, &email),
        E::OfferAccepted {
            enrollment,
            group_id,
        } => browse::offer_accepted(ctx, dialogue, enrollment, &group_id),
        E::PaymentLink { .. }
        | E::PaymentByTransfer { .. }
        | E::PaymentDemo { .. }
        | E::PaymentUnavailable { .. }
        | E::PaymentStillPending { .. }
        | E::PaymentCheckUnavailable { .. }
        | E::PaymentConfirmed { .. }
        | E::PaymentCanceled { .. } => payment::on_event(ctx, dialogue, event),
        E::DocumentStored { .. }
        | E::DocumentRefused { .. }
        | E::ReviewAccepted { .. }
        | E::DocumentReturned { .. } => documents::on_event(ctx, dialogue, event),
        E::Forgotten { documents } => privacy::forgotten(ctx, documents),
        E::LessonReminder { .. } | E::LessonEnded { .. } => {
            schedule::on_event(ctx, dialogue, event)
        }
        E::DocumentsByEmail {
            enrollment,
            unsorted,
        } => mail::documents_arrived(ctx, dialogue, enrollment, &unsorted),
        E::TestWindow {
            job,
            enrollment,
            notice,
        } => attestation::window(ctx, dialogue, job, enrollment, notice),
        E::AttemptTimeUp {
            job,
            enrollment,
            attempt,
        } => attestation::time_up(ctx, dialogue, job, enrollment, attempt),
        E::LetterBounced { email } => mail::letter_bounced(ctx, dialogue, &email),
    }
}

/// The learner-facing explanation of a refused value.
pub fn explain(t: &Texts, e: &crate::domain::personal::ValidationError) -> String {
    t.get(e.message_id(), Some(&e.args()))
}

/// A reply for a button that refers to something the learner does not have (forged data,
/// or another learner's enrollment).
pub(crate) fn stale(ctx: &Ctx, dialogue: Dialogue) -> Outcome {
    Outcome::stay(dialogue).toast(tr!(ctx.texts, "button-outdated"))
}

#[cfg(test)]
pub(crate) mod testkit;
