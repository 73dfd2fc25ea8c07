-- The email channel (issue 6). Kept equivalent to migrations/postgres/0004_mail.sql.
--
-- mail_messages (0001) is the ledger of every letter the poller took from the mailbox,
-- keyed by (mailbox, UIDVALIDITY, UID) and looked up by Message-ID. Here it learns when a
-- letter was filed away on the server (recorded but not filed = the poller died between
-- the two; it files it on restart), who sent it, its subject, and where its raw bytes are
-- kept while it waits for staff review (a letter held because its From was not proven).
ALTER TABLE mail_messages ADD COLUMN filed_at BIGINT;
ALTER TABLE mail_messages ADD COLUMN sender TEXT;
ALTER TABLE mail_messages ADD COLUMN subject TEXT;
ALTER TABLE mail_messages ADD COLUMN raw_key TEXT;
CREATE INDEX mail_unfiled ON mail_messages (mailbox, uid_validity, filed_at);

-- Letters the bot sent: replies (In-Reply-To, References) and bounces are matched to them.
CREATE TABLE mail_sent (
    message_id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Unknown senders get one auto-reply, ever.
CREATE TABLE mail_autoreplies (
    address TEXT PRIMARY KEY,
    sent_at BIGINT NOT NULL
);

-- Addresses whose letters bounced; cleared when the address is verified again.
CREATE TABLE mail_failures (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
