-- Where the reader is told about the order (the e-mail in their access token when they placed it), so
-- every order event can carry it and notifications need not ask the identity service. Null for orders
-- placed before this column, or with a token that carries no e-mail.
ALTER TABLE orders ADD COLUMN email text CHECK (char_length(email) <= 320);
-- The admin listing of every order, newest first, optionally by status.
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_by_age ON orders (created_at DESC, id DESC);
