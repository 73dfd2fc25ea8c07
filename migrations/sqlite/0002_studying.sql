-- Studying (issue 4): personal webinar links remember the MTS Link event session they were
-- issued for (a lesson moved to another session needs a new registration); the reminder
-- fan-out reads a group's enrolled learners.
ALTER TABLE webinar_links ADD COLUMN event_session_id TEXT;
CREATE INDEX enrollments_by_group ON enrollments (group_id, enrolled_at);
