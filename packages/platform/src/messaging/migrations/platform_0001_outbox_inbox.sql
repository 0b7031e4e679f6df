-- Transactional outbox: written in the same transaction as the state change it announces,
-- published by the relay after commit, deleted once the broker has it.
CREATE TABLE outbox (
  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id         uuid NOT NULL UNIQUE,
  topic      text NOT NULL,
  key        text NOT NULL,
  value      text NOT NULL,
  headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The relay holds back a row while an earlier row of the same key is still pending.
CREATE INDEX outbox_key_seq ON outbox (key, seq);

-- Inbox: one row per message a consumer has applied, written in the transaction that applies it.
CREATE TABLE inbox (
  consumer     text NOT NULL,
  message_id   text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
