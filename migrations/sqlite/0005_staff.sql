-- The staff side (issue 7), SQLite. Kept equivalent to migrations/postgres/0005_staff.sql.

-- Alerts for the staff chat, queued in the transaction of the change they report. A worker
-- hands them to the outbox one by one, or as one digest per kind when many come at once.
CREATE TABLE staff_alerts (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    learner_id BIGINT,
    summary TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    dispatched_at BIGINT
);
CREATE INDEX staff_alerts_by_status ON staff_alerts (status, kind, created_at);

-- Forum topics of the staff chat, one per kind of alert, created by the bot.
CREATE TABLE staff_topics (
    chat_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    thread_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, kind)
);

-- Staff requests that wait for a confirmation button (manual payment, broadcast): the
-- button refers to the row, which is decided once.
CREATE TABLE staff_requests (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    author BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    prompt_message_id BIGINT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);

-- Secrets the instances share (the key that signs staff buttons), created on first start.
CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX audit_by_actor ON audit_log (actor, at);
