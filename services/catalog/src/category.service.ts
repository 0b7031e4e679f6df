/** The category tree: public reading, and the filter the product listing uses. */
import type { Pool } from '@folio/platform/db';
import { problems } from '@folio/platform/problem';
import { type Category, categoryAndDescendants, findCategory, listCategories } from './category.repository.ts';
import type { CategoryNode } from './category.schemas.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CategoryService {
  tree(): Promise<CategoryNode[]>;
  /** The ids a `category` filter (an id or a slug) selects: the category and its sub-categories; 404 when unknown. */
  filterIds(idOrSlug: string): Promise<string[]>;
}

export function createCategoryService(deps: { pool: Pool }): CategoryService {
  const { pool } = deps;
  return {
    async tree() {
      return buildTree(await listCategories(pool));
    },

    async filterIds(idOrSlug) {
      const ref = UUID.test(idOrSlug) ? { id: idOrSlug.toLowerCase() } : { slug: idOrSlug.toLowerCase() };
      const category = await findCategory(pool, ref);
      if (!category) throw problems.notFound(`No category "${idOrSlug}" (query parameter category); GET /api/categories lists them.`);
      return categoryAndDescendants(pool, category.id);
    },
  };
}

/** Nests the flat list (parents first) into top-level categories with their sub-categories. */
export function buildTree(categories: Category[]): CategoryNode[] {
  const roots: CategoryNode[] = [];
  const byId = new Map<string, CategoryNode>();
  for (const c of categories) {
    if (c.parentId === null) {
      const node: CategoryNode = { id: c.id, name: c.name, slug: c.slug, children: [] };
      byId.set(c.id, node);
      roots.push(node);
    } else {
      byId.get(c.parentId)?.children.push({ id: c.id, name: c.name, slug: c.slug, children: [] });
    }
  }
  return roots;
}
