-- What the notification service knows about each order's reader, from the order events: who placed it,
-- where they are mailed and what they bought. Payment events carry neither, so they are told from here.
CREATE TABLE recipients (
  order_id         text PRIMARY KEY,
  user_id          text NOT NULL,
  email            text,
  summary          jsonb,                -- the order summary of the order events (lines, subtotal, tax, shipping, total)
  payment_deadline timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One notification per reader and event. The audit reads this table: keep its names.
CREATE TABLE notifications (
  id              uuid PRIMARY KEY,
  user_id         text NOT NULL,
  order_id        text,                 -- the order it is about
  event_id        uuid NOT NULL UNIQUE, -- the event that caused it: one notification per event, however often delivered
  type            text NOT NULL CHECK (type IN ('order-paid', 'payment-failed', 'order-cancelled', 'order-refunded')),
  subject         varchar(200) NOT NULL,
  message         text NOT NULL,
  email           text,                 -- where it is mailed; null while unknown / in-app only
  status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  -- The sender's claim on a pending row while it mails it: its outcome is recorded only under the same claim.
  lease_id        uuid,
  CHECK (attempts >= 0),
  CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
  CHECK (status = 'pending' OR next_attempt_at IS NULL)
);

-- A reader's list, newest first (keyset on created_at, id).
CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);
-- The sender's queue: only pending rows, by when they are due.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
-- Pending mails waiting for their order's recipient.
CREATE INDEX notifications_by_order ON notifications (order_id) WHERE status = 'pending';
