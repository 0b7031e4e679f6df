-- The identity service's own schema: accounts, saved addresses, signing keys, refresh-token
-- families and the login-failure log the throttle counts.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  phone         text CHECK (length(phone) BETWEEN 5 AND 20),
  password_hash text NOT NULL,
  roles         text[] NOT NULL DEFAULT ARRAY['customer']::text[] CHECK (roles <@ ARRAY['customer', 'admin']::text[]),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored normalised already; the index on lower() still guarantees uniqueness regardless of case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
-- The admin list pages through users in this order.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

CREATE TABLE addresses (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  label       text CHECK (length(label) <= 40),
  name        text NOT NULL,
  line1       text NOT NULL,
  line2       text,
  city        text NOT NULL,
  postal_code text NOT NULL,
  country     char(2) NOT NULL,
  is_default  boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON addresses (user_id, created_at, id);
-- At most one default address per user, whatever the application does.
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (user_id) WHERE is_default;

-- Ed25519 signing keys. The newest key that is not retired signs; every key that is not retired is
-- published in the JWKS, so a new key can be added (and published) before it signs and an old one
-- kept until the tokens it signed have expired. The private key never leaves this database.
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  alg         text NOT NULL DEFAULT 'EdDSA',
  public_jwk  jsonb NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);

-- A family is one sign-in: every refresh token rotated from the same login. Reuse of a rotated
-- token, or a logout, revokes the whole family.
CREATE TABLE refresh_families (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  revoked_at     timestamptz,
  revoked_reason text
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

-- Only the SHA-256 of a refresh token is stored: a leaked table does not leak usable tokens.
CREATE TABLE refresh_tokens (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  family_id  uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- One row per failed (or in-flight) login, per scope: 'account' (the normalised email) and
-- 'address' (the client address). The throttle counts rows inside the window; a sweeper deletes old ones.
CREATE TABLE login_failures (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scope     text NOT NULL CHECK (scope IN ('account', 'address')),
  key       text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_key_idx ON login_failures (scope, key, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);
