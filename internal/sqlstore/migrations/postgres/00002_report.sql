-- +goose Up
-- The integration report: aggregates per caller, never single requests.
CREATE TABLE report_window (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    started_at BIGINT NOT NULL
);
INSERT INTO report_window (id, started_at) VALUES (1, 0);

CREATE TABLE report_callers (
    client_id  TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    requests   BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    state      TEXT NOT NULL
);

CREATE TABLE report_signals (
    client_id          TEXT NOT NULL REFERENCES report_callers (client_id) ON DELETE CASCADE,
    code               TEXT NOT NULL,
    route              TEXT NOT NULL,
    count              BIGINT NOT NULL,
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    example_request_id TEXT NOT NULL,
    PRIMARY KEY (client_id, code, route)
);

CREATE TABLE report_routes (
    client_id          TEXT NOT NULL REFERENCES report_callers (client_id) ON DELETE CASCADE,
    route              TEXT NOT NULL,
    requests           BIGINT NOT NULL,
    client_errors      BIGINT NOT NULL,
    first_error        BIGINT NOT NULL,
    last_error         BIGINT NOT NULL,
    example_request_id TEXT NOT NULL,
    PRIMARY KEY (client_id, route)
);

CREATE TABLE report_problems (
    client_id TEXT NOT NULL REFERENCES report_callers (client_id) ON DELETE CASCADE,
    route     TEXT NOT NULL,
    problem   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (client_id, route, problem)
);

-- +goose Down
DROP TABLE report_problems;
DROP TABLE report_routes;
DROP TABLE report_signals;
DROP TABLE report_callers;
DROP TABLE report_window;
