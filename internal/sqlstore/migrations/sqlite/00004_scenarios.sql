-- +goose Up
-- Fault rules and autopilot policies of a sandbox, shared by every process on the database.
CREATE TABLE fault_rules (
    id                  TEXT PRIMARY KEY,
    seq                 BIGINT NOT NULL,
    match_operation     TEXT NOT NULL,
    match_method        TEXT NOT NULL,
    match_path          TEXT NOT NULL,
    match_client_id     TEXT NOT NULL,
    match_partner_id    TEXT NOT NULL,
    effect_status       INTEGER NOT NULL,
    effect_retry_after  INTEGER NOT NULL,
    effect_delay_ns     BIGINT NOT NULL,
    effect_drop         BOOLEAN NOT NULL,
    budget_count        BIGINT,
    remaining           BIGINT,
    probability         DOUBLE PRECISION,
    until_at            BIGINT,
    fired               BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL
);

CREATE TABLE autopilot_policies (
    partner_id    TEXT PRIMARY KEY,
    view_ns       BIGINT,
    submit_ns     BIGINT,
    decide_ns     BIGINT,
    decision      TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    reject_reason TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE autopilot_policies;
DROP TABLE fault_rules;
