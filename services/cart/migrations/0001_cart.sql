-- Carts. In distributed mode (Redis) the active cart lives in Redis and this table is its history;
-- in embedded mode (no Redis) this table and cart_items are the cart itself. Either way there is one
-- row per cart, and at most one active row per owner.
CREATE TABLE carts (
  id           uuid PRIMARY KEY,
  -- 'u:<user id>' for a signed-in reader, 'g:<sha-256 of the cart token>' for a guest: the token itself is never stored.
  -- Bounded by the access token's size (8 KiB); identity issues uuids.
  owner_key    text NOT NULL,
  user_id      text,
  guest        boolean NOT NULL,
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'abandoned', 'converted')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  converted_at timestamptz,
  abandoned_at timestamptz,
  -- Why it was converted: the paid order, or the account cart a guest cart was merged into.
  order_id     text CHECK (length(order_id) <= 100),
  merged_into  uuid REFERENCES carts (id),
  -- The lines as last written (distributed mode) or when the cart ended: [{productId, title, quantity, unitPrice, addedAt}].
  lines        jsonb NOT NULL DEFAULT '[]'::jsonb,
  CHECK (guest = (user_id IS NULL)),
  CHECK ((status = 'converted') = (converted_at IS NOT NULL)),
  CHECK ((status = 'abandoned') = (abandoned_at IS NOT NULL))
);
CREATE UNIQUE INDEX carts_one_active_per_owner ON carts (owner_key) WHERE status = 'active';
-- The abandon sweep walks active carts by expiry.
CREATE INDEX carts_active_expiry ON carts (expires_at) WHERE status = 'active';
CREATE INDEX carts_user ON carts (user_id, created_at DESC) WHERE user_id IS NOT NULL;

-- The lines of active carts in embedded mode (unused with Redis). Money in integer minor units.
CREATE TABLE cart_items (
  cart_id     uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
  product_id  uuid NOT NULL,
  title       text NOT NULL CHECK (length(title) <= 500),
  quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
  currency    char(3) NOT NULL,
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cart_id, product_id)
);
