-- The chat an update came from: a replayed update already applied is answered with the
-- learner's status only when nothing newer from that chat is stored (a newer message's own
-- answer shows where they stand; a status of the older one would show a stale question).
ALTER TABLE telegram_inbox ADD COLUMN chat_id BIGINT;
CREATE INDEX telegram_inbox_chat ON telegram_inbox (chat_id, update_id);
