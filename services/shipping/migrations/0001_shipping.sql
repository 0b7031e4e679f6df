-- The rate table. Prices are data an operator changes with SQL (or a later admin API), not code:
-- a new country is a row in zone_countries, a new price a row in shipping_rates, and the service
-- reads them on every request, so a change applies at once without a deploy.

CREATE TABLE shipping_zones (
  id   text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,31}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100)
);

-- A country is in at most one zone; a country with no row here is not shipped to.
CREATE TABLE zone_countries (
  country text PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
  zone_id text NOT NULL REFERENCES shipping_zones (id)
);
CREATE INDEX zone_countries_zone ON zone_countries (zone_id);

CREATE TABLE shipping_methods (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,31}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- Breaks ties between options of the same price (a free standard option before a free express one).
  sort_order integer NOT NULL
);

-- One price per zone and method. The price of a parcel is
--   base_minor
--   + per_extra_item_minor × (items − 1)
--   + per_extra_kg_minor × each started kilogram above items × included_grams_per_item
-- so an average book (~400 g) only ever pays the per-item surcharge, and a heavy art book the weight too.
-- Amounts are integer minor units (cents) with their currency: never floats.
CREATE TABLE shipping_rates (
  zone_id                 text NOT NULL REFERENCES shipping_zones (id),
  method_id               text NOT NULL REFERENCES shipping_methods (id),
  -- The shop sells in euros; the column keeps each amount self-describing.
  currency                text NOT NULL DEFAULT 'EUR' CHECK (currency = 'EUR'),
  base_minor              integer NOT NULL CHECK (base_minor BETWEEN 0 AND 1000000),
  per_extra_item_minor    integer NOT NULL CHECK (per_extra_item_minor BETWEEN 0 AND 100000),
  included_grams_per_item integer NOT NULL DEFAULT 400 CHECK (included_grams_per_item BETWEEN 1 AND 100000),
  per_extra_kg_minor      integer NOT NULL CHECK (per_extra_kg_minor BETWEEN 0 AND 100000),
  min_days                integer NOT NULL CHECK (min_days BETWEEN 0 AND 365),
  max_days                integer NOT NULL CHECK (max_days BETWEEN 0 AND 365),
  -- Free when the order subtotal reaches SHIPPING_FREE_THRESHOLD_MINOR (domestic standard only, as seeded).
  free_shipping_eligible  boolean NOT NULL DEFAULT false,
  -- Pauses a method for a zone (a carrier strike) without losing its prices.
  active                  boolean NOT NULL DEFAULT true,
  PRIMARY KEY (zone_id, method_id),
  CHECK (min_days <= max_days)
);

INSERT INTO shipping_zones (id, name) VALUES
  ('domestic', 'Germany'),
  ('eu', 'European Union'),
  ('europe', 'Rest of Europe'),
  ('world', 'Rest of the world');

INSERT INTO zone_countries (country, zone_id) VALUES
  ('DE', 'domestic'),
  -- The other 26 EU member states.
  ('AT', 'eu'), ('BE', 'eu'), ('BG', 'eu'), ('CY', 'eu'), ('CZ', 'eu'), ('DK', 'eu'), ('EE', 'eu'),
  ('ES', 'eu'), ('FI', 'eu'), ('FR', 'eu'), ('GR', 'eu'), ('HR', 'eu'), ('HU', 'eu'), ('IE', 'eu'),
  ('IT', 'eu'), ('LT', 'eu'), ('LU', 'eu'), ('LV', 'eu'), ('MT', 'eu'), ('NL', 'eu'), ('PL', 'eu'),
  ('PT', 'eu'), ('RO', 'eu'), ('SE', 'eu'), ('SI', 'eu'), ('SK', 'eu'),
  -- Europe outside the EU: customs declarations, slower and dearer.
  ('GB', 'europe'), ('CH', 'europe'), ('NO', 'europe'), ('IS', 'europe'), ('LI', 'europe'),
  ('US', 'world'), ('CA', 'world'), ('AU', 'world'), ('NZ', 'world'), ('JP', 'world'),
  ('BR', 'world'), ('IN', 'world'), ('SG', 'world');

INSERT INTO shipping_methods (id, name, sort_order) VALUES
  ('economy', 'Economy', 10),
  ('standard', 'Standard', 20),
  ('express', 'Express', 30);

INSERT INTO shipping_rates
  (zone_id, method_id, base_minor, per_extra_item_minor, per_extra_kg_minor, min_days, max_days, free_shipping_eligible) VALUES
  -- Economy is book post: domestic and EU only.
  ('domestic', 'economy',   195,  50, 100, 3,  5, false),
  ('domestic', 'standard',  395, 100, 100, 1,  3, true),
  ('domestic', 'express',   990, 150, 200, 1,  1, false),
  ('eu',       'economy',   695, 150, 200, 5, 10, false),
  ('eu',       'standard',  895, 200, 250, 3,  6, false),
  ('eu',       'express',  1990, 300, 400, 1,  3, false),
  ('europe',   'standard', 1190, 250, 300, 4,  8, false),
  ('europe',   'express',  2490, 400, 500, 2,  4, false),
  ('world',    'standard', 1590, 350, 600, 7, 21, false),
  ('world',    'express',  3990, 600, 1000, 3, 6, false);
