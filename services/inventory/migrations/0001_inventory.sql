-- Inventory: stock per book and the reservations that hold it for orders. The invariants live here,
-- so no code path (nor a hand-written UPDATE) can oversell.

-- One row per book. available = on_hand - reserved is what can still be promised; `sold` copies have
-- left for good (confirmed). Every copy is accounted for: on_hand + sold = initial + restocked.
CREATE TABLE stock (
  book_id    uuid PRIMARY KEY,
  on_hand    integer NOT NULL CHECK (on_hand >= 0),
  reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  -- What the book started with (INVENTORY_INITIAL_STOCK when the catalogue announced it).
  initial    integer NOT NULL DEFAULT 0 CHECK (initial >= 0),
  -- Running totals: copies added (admin restocks, refunded orders returned to stock) and copies sold.
  restocked  integer NOT NULL DEFAULT 0 CHECK (restocked >= 0),
  sold       integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Reserved copies are copies on hand: reserved + confirmed never exceed the stock.
  CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand),
  CONSTRAINT stock_copies_accounted CHECK (on_hand + sold = initial + restocked)
);

-- One row per order: the reservation's state machine (reserved → confirmed | released | expired; a
-- lapsed one may still be confirmed when the stock allows). It is also the order's lock and what
-- makes POST /internal/reservations idempotent by order id.
CREATE TABLE reservation_orders (
  order_id   uuid PRIMARY KEY,
  status     text NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released', 'expired')),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Target of the lines' (order_id, status) key below.
  UNIQUE (order_id, status)
);
-- The expiry sweeper walks reservations still held, by deadline; the admin listing goes newest first.
CREATE INDEX reservation_orders_due ON reservation_orders (expires_at) WHERE status = 'reserved';
CREATE INDEX reservation_orders_created ON reservation_orders (created_at DESC, order_id);

-- One row per book of an order, carrying the order's status and the time of each step.
CREATE TABLE reservations (
  order_id     uuid NOT NULL,
  book_id      uuid NOT NULL,
  quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  status       text NOT NULL CHECK (status IN ('reserved', 'confirmed', 'released', 'expired')),
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz,
  -- When it was released or expired (kept if a lapsed reservation is confirmed after all).
  released_at  timestamptz,
  -- When a refunded order's copies went back on the shelf: once.
  restocked_at timestamptz,
  PRIMARY KEY (order_id, book_id),
  -- Every line is in its order's status. Checked at commit, so both tables change in one transaction.
  FOREIGN KEY (order_id, status) REFERENCES reservation_orders (order_id, status) DEFERRABLE INITIALLY DEFERRED,
  CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL)),
  CHECK (status NOT IN ('released', 'expired') OR released_at IS NOT NULL),
  CHECK (status <> 'reserved' OR released_at IS NULL),
  CHECK (restocked_at IS NULL OR status = 'confirmed')
);
-- The copies each book has promised: summed by the check below, so only open reservations are indexed.
CREATE INDEX reservations_held_by_book ON reservations (book_id) WHERE status = 'reserved';

-- stock.reserved is exactly the sum of the book's held reservation lines. Checked at commit (after
-- both tables changed), against the stock row as it is then. Every writer holds the stock row's
-- lock when it changes a book's lines, so the sum cannot move under the check.
CREATE FUNCTION inventory_check_reserved(book uuid) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  counted integer;
  held    integer;
BEGIN
  SELECT reserved INTO counted FROM stock WHERE book_id = book;
  SELECT coalesce(sum(quantity), 0) INTO held FROM reservations WHERE book_id = book AND status = 'reserved';
  IF coalesce(counted, 0) <> held THEN
    RAISE EXCEPTION 'stock of book % counts % reserved copies but its open reservations hold %', book, coalesce(counted, 0), held
      USING ERRCODE = 'check_violation';
  END IF;
END $$;

CREATE FUNCTION inventory_check_reserved_trigger() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM inventory_check_reserved(NEW.book_id);
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER stock_reserved_matches_lines AFTER INSERT OR UPDATE ON stock
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION inventory_check_reserved_trigger();
CREATE CONSTRAINT TRIGGER reservation_lines_match_stock AFTER INSERT OR UPDATE ON reservations
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION inventory_check_reserved_trigger();
