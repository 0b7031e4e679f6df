import type { App } from '@folio/platform/http';
import { CategoryTree } from './category.schemas.ts';
import type { CategoryService } from './category.service.ts';

export function registerCategoryRoutes(app: App, deps: { categories: CategoryService }): void {
  app.get(
    '/api/categories',
    {
      schema: {
        tags: ['categories'],
        summary: 'The category tree',
        description: 'Top-level categories with their sub-categories, in display order. Filter products with `GET /api/products?category=<id or slug>`.',
        response: { 200: CategoryTree },
      },
    },
    async () => ({ items: await deps.categories.tree() }),
  );
}
