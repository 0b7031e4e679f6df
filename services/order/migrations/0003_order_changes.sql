-- Tells the order service's instances (LISTEN order_changed) that an order changed, so a reader waiting
-- on GET /api/orders/{id} with `Prefer: wait` gets the new state at once. NOTIFY is delivered at commit.
-- Every visible change of an order writes its timeline or its payment projection, so these two suffice.
CREATE FUNCTION notify_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('order_changed', NEW.order_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER order_timeline_changed AFTER INSERT ON order_timeline FOR EACH ROW EXECUTE FUNCTION notify_order_changed();
CREATE TRIGGER order_payments_changed AFTER INSERT OR UPDATE ON order_payments FOR EACH ROW EXECUTE FUNCTION notify_order_changed();
