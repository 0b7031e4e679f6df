-- The catalogue: a two-level category tree and the books, searchable by full text and by trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
  id        uuid PRIMARY KEY,
  parent_id uuid REFERENCES categories (id),
  name      text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  slug      text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
  position  integer NOT NULL DEFAULT 0
);
CREATE INDEX categories_parent ON categories (parent_id);

-- The shop's taxonomy is reference data every environment needs (a book must name a category),
-- so it ships with the schema. Ids derive from the slug: the same in every database.
INSERT INTO categories (id, parent_id, name, slug, position)
SELECT md5('folio-category:' || t.slug)::uuid,
       CASE WHEN t.parent IS NULL THEN NULL ELSE md5('folio-category:' || t.parent)::uuid END,
       t.name, t.slug, t.position
FROM (VALUES
  ('fiction',              NULL,        'Fiction',                 1),
  ('literary-fiction',     'fiction',   'Literary Fiction',        1),
  ('fantasy',              'fiction',   'Fantasy',                 2),
  ('science-fiction',      'fiction',   'Science Fiction',         3),
  ('crime-mystery',        'fiction',   'Crime & Mystery',         4),
  ('thriller',             'fiction',   'Thriller',                5),
  ('romance',              'fiction',   'Romance',                 6),
  ('historical-fiction',   'fiction',   'Historical Fiction',      7),
  ('horror',               'fiction',   'Horror',                  8),
  ('science',              NULL,        'Science',                 2),
  ('physics',              'science',   'Physics',                 1),
  ('biology',              'science',   'Biology',                 2),
  ('astronomy',            'science',   'Astronomy',               3),
  ('mathematics',          'science',   'Mathematics',             4),
  ('computing',            'science',   'Computing',               5),
  ('history',              NULL,        'History',                 3),
  ('ancient-history',      'history',   'Ancient History',         1),
  ('modern-history',       'history',   'Modern History',          2),
  ('military-history',     'history',   'Military History',        3),
  ('children',             NULL,        'Children & Young Adult',  4),
  ('picture-books',        'children',  'Picture Books',           1),
  ('young-adult',          'children',  'Young Adult',             2),
  ('business',             NULL,        'Business & Economics',    5),
  ('economics',            'business',  'Economics',               1),
  ('management',           'business',  'Management',              2),
  ('lifestyle',            NULL,        'Lifestyle',               6),
  ('cookery',              'lifestyle', 'Cookery',                 1),
  ('travel',               'lifestyle', 'Travel',                  2),
  ('art-photography',      'lifestyle', 'Art & Photography',       3)
) AS t (slug, parent, name, position);

-- array_to_string is only STABLE; indexes and generated columns need an IMMUTABLE expression.
CREATE FUNCTION catalog_authors_text(authors text[]) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT array_to_string(authors, ' ') $$;

CREATE TABLE books (
  id             uuid PRIMARY KEY,
  title          text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
  authors        text[] NOT NULL CHECK (cardinality(authors) BETWEEN 1 AND 10),
  isbn           text NOT NULL UNIQUE CHECK (isbn ~ '^97[89][0-9]{10}$'),
  description    text NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
  -- Money in minor units with its currency, never a float.
  price_amount   integer NOT NULL CHECK (price_amount BETWEEN 1 AND 10000000),
  price_currency text NOT NULL DEFAULT 'EUR' CHECK (price_currency ~ '^[A-Z]{3}$'),
  category_id    uuid REFERENCES categories (id) ON DELETE SET NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unavailable')),
  -- Kept from the inventory service's StockChanged events; nothing is sellable until it says so.
  in_stock       boolean NOT NULL DEFAULT false,
  available      integer NOT NULL DEFAULT 0 CHECK (available >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- Titles and descriptions are stemmed (english); names and the ISBN are kept as written (simple).
  search         tsvector GENERATED ALWAYS AS (
                   setweight(to_tsvector('english', title), 'A') ||
                   setweight(to_tsvector('simple', isbn), 'A') ||
                   setweight(to_tsvector('simple', catalog_authors_text(authors)), 'B') ||
                   setweight(to_tsvector('english', description), 'C')
                 ) STORED
);

CREATE INDEX books_search ON books USING gin (search);
-- Fuzzy and partial matches (misspelt names, word beginnings): word_similarity via <%.
CREATE INDEX books_title_trgm ON books USING gin (title gin_trgm_ops);
CREATE INDEX books_authors_trgm ON books USING gin (catalog_authors_text(authors) gin_trgm_ops);
CREATE INDEX books_category ON books (category_id);
-- Keyset pagination of the public listing, one index per sort order (id is the tie-breaker).
CREATE INDEX books_active_title ON books (title, id) WHERE status = 'active';
CREATE INDEX books_active_price ON books (price_amount, id) WHERE status = 'active';
CREATE INDEX books_active_newest ON books (created_at, id) WHERE status = 'active';
