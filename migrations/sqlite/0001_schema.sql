-- uchbot schema, SQLite. Kept equivalent to migrations/postgres/0001_schema.sql
-- (a test compares the two). Times are Unix seconds (UTC); calendar dates are 'YYYY-MM-DD'.

CREATE TABLE learners (
    id INTEGER PRIMARY KEY,
    tg_user_id BIGINT UNIQUE,
    tg_chat_id BIGINT,
    tg_username TEXT,
    display_name TEXT NOT NULL DEFAULT '',
    email TEXT UNIQUE,
    email_verified_at BIGINT,
    consent_version TEXT,
    consent_given_at BIGINT,
    consent_refused_at BIGINT,
    consent_withdrawn_at BIGINT,
    timezone TEXT,
    mail_token TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE email_verifications (
    learner_id BIGINT PRIMARY KEY REFERENCES learners(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts_left BIGINT NOT NULL,
    sends BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE catalog_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    program TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    hours BIGINT NOT NULL,
    price_kopecks BIGINT NOT NULL,
    format TEXT NOT NULL,
    document TEXT NOT NULL,
    offer TEXT,
    pass_percent BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    pause_minutes BIGINT NOT NULL,
    time_limit_minutes BIGINT,
    questions_per_attempt BIGINT,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE course_groups (
    id TEXT PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES courses(id),
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    test_opens_on TEXT,
    webinar_url TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE lessons (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES course_groups(id),
    starts_at BIGINT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    topic TEXT NOT NULL,
    webinar_session_id TEXT,
    materials TEXT NOT NULL,
    recording_url TEXT,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES courses(id),
    position BIGINT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    correct TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    course_id TEXT NOT NULL REFERENCES courses(id),
    group_id TEXT NOT NULL REFERENCES course_groups(id),
    offer_version TEXT NOT NULL,
    offer_sha256 TEXT NOT NULL,
    offer_accepted_at BIGINT NOT NULL,
    offer_tg_user_id BIGINT,
    offer_tg_message_id BIGINT,
    submitted_at BIGINT,
    enrolled_at BIGINT,
    review_status TEXT,
    review_note TEXT,
    reviewed_by BIGINT,
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (learner_id, group_id)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    enrollment_id BIGINT NOT NULL UNIQUE REFERENCES enrollments(id),
    amount_kopecks BIGINT NOT NULL,
    status TEXT NOT NULL,
    paid_at BIGINT,
    paid_via TEXT,
    paid_note TEXT,
    paid_by BIGINT,
    payment_attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    attempt BIGINT NOT NULL,
    idempotence_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    confirmation_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payments_by_status ON payments (status);

CREATE TABLE applications (
    enrollment_id BIGINT PRIMARY KEY REFERENCES enrollments(id),
    fields TEXT NOT NULL,
    completed_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    enrollment_id BIGINT REFERENCES enrollments(id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT,
    status TEXT NOT NULL,
    review_note TEXT,
    reviewed_by BIGINT,
    reviewed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX documents_by_learner ON documents (learner_id);

CREATE TABLE test_attempts (
    id INTEGER PRIMARY KEY,
    enrollment_id BIGINT NOT NULL REFERENCES enrollments(id),
    number BIGINT NOT NULL,
    plan TEXT NOT NULL,
    answers TEXT NOT NULL,
    current_index BIGINT NOT NULL,
    message_id BIGINT,
    started_at BIGINT NOT NULL,
    deadline_at BIGINT,
    finished_at BIGINT,
    score BIGINT,
    total BIGINT,
    passed BIGINT,
    UNIQUE (enrollment_id, number)
);

CREATE TABLE certificates (
    enrollment_id BIGINT PRIMARY KEY REFERENCES enrollments(id),
    registration_number TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    postal_address TEXT NOT NULL,
    sample_version BIGINT NOT NULL,
    sample_sha256 TEXT,
    sample_sent_at BIGINT,
    confirmed_at BIGINT,
    printed_at BIGINT,
    printed_by BIGINT,
    tracking_number TEXT,
    tracking_sent_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE webinar_links (
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    lesson_id TEXT NOT NULL,
    link TEXT NOT NULL,
    participation_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (learner_id, lesson_id)
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    run_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    learner_id BIGINT,
    details TEXT NOT NULL
);
CREATE INDEX audit_by_learner ON audit_log (learner_id);

CREATE TABLE conversations (
    chat_id BIGINT PRIMARY KEY,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE processed_updates (
    update_id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL
);

CREATE TABLE mail_messages (
    id INTEGER PRIMARY KEY,
    mailbox TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    message_id TEXT,
    learner_id BIGINT REFERENCES learners(id),
    status TEXT NOT NULL,
    reason TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (mailbox, uid_validity, uid)
);
CREATE INDEX mail_by_message_id ON mail_messages (message_id);
