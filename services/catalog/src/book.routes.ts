/** Thin handlers of the product API: parse (the schemas do), call the service, shape the answer. */
import { authenticate, principalOf, requireRole, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { ProblemSchema } from '@folio/platform/problem';
import type { Book } from './book.repository.ts';
import { BookIdParams, CreateBookBody, ListProductsQuery, Product, ProductPage, UpdateBookBody } from './book.schemas.ts';
import type { BookService } from './book.service.ts';

export function toProduct(book: Book): Product {
  return {
    id: book.id,
    title: book.title,
    authors: book.authors,
    isbn: book.isbn,
    description: book.description,
    price: book.price,
    category: book.category,
    status: book.status,
    availability: book.inStock ? 'in_stock' : 'out_of_stock',
    inStock: book.inStock,
  };
}

const TAGS = ['products'];
const readProblems = { 400: ProblemSchema, 404: ProblemSchema };
const adminProblems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };

export function registerBookRoutes(app: App, deps: { books: BookService; verifier: TokenVerifier }): void {
  const { books } = deps;
  // In preValidation, so a caller without the right token is told so before anything about the body.
  const adminOnly = { preValidation: [authenticate(deps.verifier), requireRole('admin')] };

  app.get(
    '/api/products',
    {
      schema: {
        tags: TAGS,
        summary: 'Search and list books',
        description:
          'Active books, paged by an opaque keyset cursor. `q` searches titles, authors (forgiving misspellings), descriptions and ISBNs; ' +
          '`category` includes sub-categories; `ids` looks books up by id whatever their status (for other services).',
        querystring: ListProductsQuery,
        response: { 200: ProductPage, ...readProblems },
      },
    },
    async (request) => {
      const page = await books.list(request.query);
      return { items: page.books.map(toProduct), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/products/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'One book',
        description: 'Any status: a retired book is still shown (its status says unavailable).',
        params: BookIdParams,
        response: { 200: Product, ...readProblems },
      },
    },
    async (request) => toProduct(await books.get(request.params.id)),
  );

  app.post(
    '/api/products',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Add a book (admin)',
        security: [{ bearerAuth: [] }],
        body: CreateBookBody,
        response: { 201: Product, ...adminProblems },
      },
    },
    async (request, reply) => {
      const book = await books.create(principalOf(request), request.body);
      return reply.code(201).header('location', `/api/products/${book.id}`).send(toProduct(book));
    },
  );

  app.patch(
    '/api/products/:id',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Change some fields of a book (admin)',
        security: [{ bearerAuth: [] }],
        params: BookIdParams,
        body: UpdateBookBody,
        response: { 200: Product, ...adminProblems },
      },
    },
    async (request) => toProduct(await books.update(principalOf(request), request.params.id, request.body)),
  );

  app.post(
    '/api/products/:id/retire',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Stop selling a book (admin)',
        description: 'Its status becomes unavailable: it leaves listings and search but can still be read by id. Idempotent.',
        security: [{ bearerAuth: [] }],
        params: BookIdParams,
        response: { 200: Product, ...adminProblems },
      },
    },
    async (request) => toProduct(await books.changeStatus(principalOf(request), request.params.id, 'retire')),
  );

  app.post(
    '/api/products/:id/reactivate',
    {
      ...adminOnly,
      schema: {
        tags: TAGS,
        summary: 'Sell a retired book again (admin)',
        description: 'Its status becomes active. Idempotent.',
        security: [{ bearerAuth: [] }],
        params: BookIdParams,
        response: { 200: Product, ...adminProblems },
      },
    },
    async (request) => toProduct(await books.changeStatus(principalOf(request), request.params.id, 'reactivate')),
  );
}
