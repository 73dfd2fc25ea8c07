-- The final test and the qualification document (issue 5), PostgreSQL. Kept equivalent to
-- migrations/sqlite/0003_attestation.sql.

-- The token of the question on screen: new on every change of the attempt, so a press on an
-- older question, or the same button pressed twice, no longer matches.
ALTER TABLE test_attempts ADD COLUMN token TEXT NOT NULL DEFAULT '';
-- Marks on the multiple-choice question on screen, not yet answered with «Готово» (JSON).
ALTER TABLE test_attempts ADD COLUMN marks TEXT NOT NULL DEFAULT '[]';
-- How a finished attempt ended: answered, time_up, closed.
ALTER TABLE test_attempts ADD COLUMN ended_by TEXT;

-- What the Russian Post tracking poll learned about the letter with the document.
ALTER TABLE certificates ADD COLUMN post_checked_at BIGINT;
ALTER TABLE certificates ADD COLUMN arrived_at BIGINT;
ALTER TABLE certificates ADD COLUMN delivered_at BIGINT;
CREATE INDEX certificates_in_post ON certificates (tracking_number, delivered_at);
