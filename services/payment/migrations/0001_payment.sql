-- Payments: one row per attempt of an order, each with its own checkout session at the gateway.
CREATE TABLE payments (
  id                     uuid PRIMARY KEY,
  order_id               uuid NOT NULL,
  user_id                text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 100),
  attempt                integer NOT NULL CHECK (attempt BETWEEN 1 AND 100),
  -- Money in integer minor units, as the gateway counts it.
  amount                 integer NOT NULL CHECK (amount >= 0),
  currency               char(3) NOT NULL,
  status                 text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'success', 'failed', 'cancelled', 'timeout', 'refunded')),
  gateway_session_id     text UNIQUE CHECK (length(gateway_session_id) <= 255),
  gateway_payment_intent text CHECK (length(gateway_payment_intent) <= 255),
  payment_url            text CHECK (length(payment_url) <= 5000),
  deadline               timestamptz NOT NULL,
  failure_reason         text CHECK (length(failure_reason) <= 500),
  -- The reader asked to cancel (the cancel link): an expired session then means cancelled, not timeout.
  cancel_requested       boolean NOT NULL DEFAULT false,
  -- The session must still be expired at the gateway (the attempt was cancelled or replaced while it was open).
  expire_session         boolean NOT NULL DEFAULT false,
  -- A refund was asked for (by the order service, or for a duplicate capture) and is not yet accepted by the gateway
  -- while refund_id is null; refunded_at is when the gateway reported the money returned.
  refund_requested_at    timestamptz,
  refund_reason          text CHECK (length(refund_reason) <= 200),
  refund_id              text CHECK (length(refund_id) <= 255),
  refunded_at            timestamptz,
  -- When a background job may next look at the row (session creation, timeout, reconciliation, follow-ups):
  -- a lease while one instance works on it, and the backoff after the gateway failed.
  next_check_at          timestamptz NOT NULL DEFAULT now(),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, attempt),
  CHECK (status <> 'refunded' OR refunded_at IS NOT NULL)
);
-- At most one successful payment per order, whatever the code does: a second capture is refunded instead.
CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status IN ('success', 'refunded');
CREATE INDEX payments_pending_checks ON payments (next_check_at) WHERE status = 'pending';
CREATE INDEX payments_followups ON payments (next_check_at) WHERE expire_session OR (refund_requested_at IS NOT NULL AND refund_id IS NULL);
CREATE INDEX payments_payment_intent ON payments (gateway_payment_intent) WHERE gateway_payment_intent IS NOT NULL;

-- The audit trail: every transition, with why it happened.
CREATE TABLE payment_transitions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payment_id  uuid NOT NULL REFERENCES payments (id),
  from_status text NOT NULL,
  to_status   text NOT NULL,
  reason      text NOT NULL CHECK (length(reason) <= 500),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_transitions_payment ON payment_transitions (payment_id, at);

-- Gateway events already applied, written in the transaction that applied them: a replay changes nothing.
CREATE TABLE gateway_events (
  event_id    text PRIMARY KEY CHECK (length(event_id) <= 255),
  type        text NOT NULL CHECK (length(type) <= 100),
  received_at timestamptz NOT NULL DEFAULT now()
);
