/** All SQL about categories. Functions take a Queryable so the caller decides the transaction. */
import type { Queryable } from '@folio/platform/db';

export interface Category {
  id: string;
  parentId: string | null;
  name: string;
  slug: string;
}

interface CategoryRow {
  id: string;
  parent_id: string | null;
  name: string;
  slug: string;
}

const toCategory = (r: CategoryRow): Category => ({ id: r.id, parentId: r.parent_id, name: r.name, slug: r.slug });

/** Every category, parents before children, each level in its display order. */
export async function listCategories(db: Queryable): Promise<Category[]> {
  const { rows } = await db.query<CategoryRow>(
    `WITH RECURSIVE tree AS (
       SELECT id, parent_id, name, slug, position, ARRAY[position] AS path FROM categories WHERE parent_id IS NULL
       UNION ALL
       SELECT c.id, c.parent_id, c.name, c.slug, c.position, t.path || c.position FROM categories c JOIN tree t ON c.parent_id = t.id
     )
     SELECT id, parent_id, name, slug FROM tree ORDER BY path, name`,
  );
  return rows.map(toCategory);
}

/** A category by id or by slug. */
export async function findCategory(db: Queryable, ref: { id: string } | { slug: string }): Promise<Category | undefined> {
  const { rows } =
    'id' in ref
      ? await db.query<CategoryRow>('SELECT id, parent_id, name, slug FROM categories WHERE id = $1', [ref.id])
      : await db.query<CategoryRow>('SELECT id, parent_id, name, slug FROM categories WHERE slug = $1', [ref.slug]);
  return rows[0] ? toCategory(rows[0]) : undefined;
}

/** The category and all categories below it, at any depth. */
export async function categoryAndDescendants(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE sub AS (
       SELECT id FROM categories WHERE id = $1
       UNION
       SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id
     )
     SELECT id FROM sub`,
    [id],
  );
  return rows.map((r) => r.id);
}
