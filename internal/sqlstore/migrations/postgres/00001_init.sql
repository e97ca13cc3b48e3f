-- +goose Up
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE partners (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE merchants (
    scheme                TEXT NOT NULL,
    id                    TEXT NOT NULL,
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DEACTIVATED')),
    country_code          TEXT NOT NULL,
    business_address      TEXT,
    business_post_address TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (scheme, id)
);
CREATE INDEX merchants_name ON merchants (name);

CREATE TABLE price_packages (
    id                     TEXT PRIMARY KEY,
    partner_id             TEXT NOT NULL REFERENCES partners (id),
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    visible_in_signup_form BOOLEAN,
    product_type           TEXT,
    market                 TEXT,
    commission             TEXT
);
CREATE INDEX price_packages_partner ON price_packages (partner_id);

CREATE TABLE sales_units (
    msn                     TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    merchant_scheme         TEXT NOT NULL,
    merchant_id             TEXT NOT NULL,
    partner_id              TEXT REFERENCES partners (id),
    settlement_bank_account TEXT,
    configuration           TEXT,
    price_package_id        TEXT REFERENCES price_packages (id),
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    FOREIGN KEY (merchant_scheme, merchant_id) REFERENCES merchants (scheme, id)
);
CREATE INDEX sales_units_partner ON sales_units (partner_id, msn);
CREATE INDEX sales_units_merchant ON sales_units (merchant_scheme, merchant_id, msn);

CREATE TABLE api_keys (
    client_id             TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL CHECK (kind IN ('partner', 'management', 'merchant')),
    partner_id            TEXT REFERENCES partners (id),
    msn                   TEXT REFERENCES sales_units (msn),
    secret_hash           BYTEA NOT NULL,
    subscription_key_hash BYTEA UNIQUE,
    revoked               BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            BIGINT NOT NULL
);
CREATE INDEX api_keys_partner ON api_keys (partner_id);
CREATE INDEX api_keys_msn ON api_keys (msn);

CREATE TABLE product_orders (
    id               TEXT PRIMARY KEY,
    type             TEXT NOT NULL CHECK (type IN ('PREFILL', 'TEMPLATE', 'MANUAL')),
    partner_id       TEXT REFERENCES partners (id),
    status           TEXT NOT NULL,
    merchant_scheme  TEXT NOT NULL,
    merchant_id      TEXT NOT NULL,
    product_type     TEXT NOT NULL,
    details          TEXT NOT NULL,
    rejection_reason TEXT NOT NULL DEFAULT '',
    result_msn       TEXT,
    result_name      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    viewed_at        BIGINT,
    submitted_at     BIGINT,
    decided_at       BIGINT,
    expired_at       BIGINT
);
CREATE INDEX product_orders_partner ON product_orders (partner_id, created_at);
CREATE INDEX product_orders_created ON product_orders (created_at);
CREATE INDEX product_orders_sweep ON product_orders (type, status, created_at);

CREATE TABLE idempotency_keys (
    partner_id   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    order_id     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (partner_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE notifications (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    sent_at        BIGINT,
    last_error     TEXT NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_unsent ON notifications (id) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP TABLE idempotency_keys;
DROP TABLE product_orders;
DROP TABLE api_keys;
DROP TABLE sales_units;
DROP TABLE price_packages;
DROP TABLE merchants;
DROP TABLE partners;
DROP TABLE settings;
