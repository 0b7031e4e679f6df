-- The order service: orders and their lines, the timeline of every transition, the projection of
-- payment attempts, Idempotency-Key records, and the tax table.

-- VAT by destination country, in basis points (700 = 7 %). Books take the reduced rate (books_bp);
-- standard_bp is kept for goods that are not books. A country not listed here is taxed 0/0.
CREATE TABLE tax_rates (
  country     char(2) PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
  standard_bp integer NOT NULL CHECK (standard_bp BETWEEN 0 AND 10000),
  books_bp    integer NOT NULL CHECK (books_bp BETWEEN 0 AND 10000)
);
INSERT INTO tax_rates (country, standard_bp, books_bp) VALUES
  ('DE', 1900, 700), ('FR', 2000, 550), ('NL', 2100, 900), ('IT', 2200, 400), ('ES', 2100, 400),
  ('AT', 2000, 1000), ('BE', 2100, 600), ('PL', 2300, 500), ('SE', 2500, 600), ('IE', 2300, 0),
  ('PT', 2300, 600), ('DK', 2500, 2500), ('FI', 2400, 1000), ('GB', 2000, 0), ('CH', 810, 260),
  ('NO', 2500, 0), ('US', 0, 0), ('CA', 0, 0), ('AU', 1000, 0), ('JP', 1000, 1000);

CREATE TABLE orders (
  id               uuid PRIMARY KEY,
  user_id          text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 100),
  -- A later migration widens this when shipped/delivered arrive (order.state.ts already leaves room).
  status           text NOT NULL CHECK (status IN ('created', 'paid', 'cancelled', 'refunded')),
  currency         char(3) NOT NULL,
  subtotal         integer NOT NULL CHECK (subtotal >= 0),
  tax              integer NOT NULL CHECK (tax >= 0),
  shipping         integer NOT NULL CHECK (shipping >= 0),
  total            integer NOT NULL CHECK (total = subtotal + tax + shipping),
  shipping_address jsonb NOT NULL,
  shipping_method  text NOT NULL,
  payment_deadline timestamptz NOT NULL,
  -- The attempt the order asks the payment service to open next (or has opened last).
  payment_attempt  integer NOT NULL DEFAULT 1 CHECK (payment_attempt BETWEEN 1 AND 100),
  paid_payment_id  uuid,
  paid_at          timestamptz,
  cancel_reason    text,
  refund_reason    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- The saga: the remote step still to run (the driver claims due ones), with its retry state.
  pending_step     text CHECK (pending_step IN ('open-payment', 'confirm-stock', 'request-refund')),
  step_attempts    integer NOT NULL DEFAULT 0,
  next_step_at     timestamptz,
  last_step_error  text,
  CHECK (pending_step IS NULL OR next_step_at IS NOT NULL),
  CHECK (status <> 'paid' OR (paid_payment_id IS NOT NULL AND paid_at IS NOT NULL))
);
-- A reader's orders, newest first (keyset paging).
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);
-- The saga driver's due steps.
CREATE INDEX orders_due_steps ON orders (next_step_at) WHERE pending_step IS NOT NULL;
-- The window sweeper's open orders.
CREATE INDEX orders_awaiting_payment ON orders (payment_deadline) WHERE status = 'created';

CREATE TABLE order_lines (
  order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  book_id     uuid NOT NULL,
  title       text NOT NULL,
  quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  unit_price  integer NOT NULL CHECK (unit_price >= 0),
  line_total  integer NOT NULL CHECK (line_total = unit_price * quantity),
  tax_rate_bp integer NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (order_id, position),
  UNIQUE (order_id, book_id)
);

-- Every transition and saga event of an order, in order.
CREATE TABLE order_timeline (
  seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  status   text NOT NULL,
  event    text NOT NULL,
  detail   text
);
CREATE INDEX order_timeline_by_order ON order_timeline (order_id, seq);

-- The order service's view of the payment attempts (the payment service owns them).
CREATE TABLE order_payments (
  payment_id     uuid PRIMARY KEY,
  order_id       uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  attempt        integer,
  status         text NOT NULL CHECK (status IN ('pending', 'success', 'failed', 'cancelled', 'timeout', 'refunded')),
  payment_url    text,
  failure_reason text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, attempt)
);
CREATE INDEX order_payments_pending ON order_payments (order_id) WHERE status = 'pending';

-- Idempotency-Key records of POST /api/orders (Stripe's semantics), per reader.
CREATE TABLE idempotency_keys (
  user_id         text NOT NULL,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  state           text NOT NULL CHECK (state IN ('in-progress', 'done')),
  response_status integer,
  response_body   jsonb,
  order_id        uuid NOT NULL,
  -- While in progress: until when the request holding the key counts as running. A crashed
  -- request's key is taken over after this, continuing with the same order id.
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key),
  CHECK (state <> 'done' OR response_status IS NOT NULL)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
