-- Every Telegram update is written here before Telegram is told it arrived (the polling
-- offset, the webhook's 200), so a process killed in between loses none: rows not done
-- whose lease ran out are handed to the dispatcher again. Done rows are forgotten with
-- processed_updates (the claims that make a second delivery a no-op).
CREATE TABLE telegram_inbox (
    update_id BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    taken_until BIGINT,
    done_at BIGINT
);
CREATE INDEX telegram_inbox_open ON telegram_inbox (update_id) WHERE done_at IS NULL;
