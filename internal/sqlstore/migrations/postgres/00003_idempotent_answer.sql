-- +goose Up
-- The first answer to a prefill, byte for byte, so that a replay of its Idempotency-Key returns
-- exactly that whichever process serves it (processes may differ in --public-url). Keys stored
-- before this column existed have none; their replays rebuild the answer.
ALTER TABLE idempotency_keys ADD COLUMN response BYTEA;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN response;
