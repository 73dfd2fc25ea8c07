-- 152-ФЗ: what is kept after a learner withdraws consent, and until when. Contract and
-- payment records stay for the legal retention period (accounting law: 5 years) with just
-- enough to identify the party; then this row is deleted and the records stay anonymous.
CREATE TABLE retained_records (
    learner_id BIGINT PRIMARY KEY REFERENCES learners(id),
    data TEXT NOT NULL,
    delete_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
