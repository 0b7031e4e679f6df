/** The DTOs of the product API, one TypeBox schema each: validation, OpenAPI and types from one place. */
import { Money } from '@folio/contracts/money';
import { type Static, Type } from 'typebox';
import { CategoryRef } from './category.schemas.ts';
import { SORT_ORDERS } from './cursor.ts';

export const BOOK_STATUSES = ['active', 'unavailable'] as const;
export type BookStatus = (typeof BOOK_STATUSES)[number];

export const MAX_PRICE_MINOR_UNITS = 10_000_000;
export const MAX_IDS = 100;
export const DEFAULT_LIMIT = 20;

// Input fields. `pattern: '\S'` refuses a value of nothing but spaces; the service trims what it stores.
const Title = Type.String({ minLength: 1, maxLength: 300, pattern: '\\S', examples: ['The Hobbit'] });
const Author = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', examples: ['J. R. R. Tolkien'] });
const Authors = Type.Array(Author, { minItems: 1, maxItems: 10 });
const IsbnInput = Type.String({
  minLength: 10,
  maxLength: 20,
  pattern: '^[0-9Xx -]+$',
  description: 'ISBN-13 or ISBN-10, hyphens or spaces allowed; the check digit must be right. Stored and shown as ISBN-13.',
  examples: ['978-0-261-10221-7'],
});
const Description = Type.String({ maxLength: 10_000 });
const PriceInput = Type.Object(
  {
    amount: Type.Integer({ minimum: 1, maximum: MAX_PRICE_MINOR_UNITS, description: 'In minor units (cents): 1299 is €12.99', examples: [1299] }),
    currency: Type.Enum(['EUR'], { description: 'The shop sells in euros' }),
  },
  { additionalProperties: false },
);
const CategoryId = Type.String({ format: 'uuid', description: 'A category from GET /api/categories' });

export const CreateBookBody = Type.Object(
  { title: Title, authors: Authors, isbn: IsbnInput, description: Type.Optional(Description), price: PriceInput, categoryId: CategoryId },
  { additionalProperties: false },
);
export type CreateBookBody = Static<typeof CreateBookBody>;

export const UpdateBookBody = Type.Object(
  {
    title: Type.Optional(Title),
    authors: Type.Optional(Authors),
    isbn: Type.Optional(IsbnInput),
    description: Type.Optional(Description),
    price: Type.Optional(PriceInput),
    categoryId: Type.Optional(CategoryId),
  },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; at least one.' },
);
export type UpdateBookBody = Static<typeof UpdateBookBody>;

export const BookIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The book id' }) });

export const ListProductsQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({ maxLength: 200, description: 'Words of the title, an author (misspellings are forgiven) or an ISBN (10 or 13 digits, hyphens allowed)' }),
    ),
    category: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        pattern: '^[A-Za-z0-9-]+$',
        description: 'A category id or slug; includes its sub-categories',
        examples: ['fiction'],
      }),
    ),
    ids: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_IDS * 37,
        description: `Up to ${MAX_IDS} comma-separated book ids (batch lookup): returns those books whatever their status. The limit defaults to the number of ids.`,
      }),
    ),
    sort: Type.Optional(Type.Enum(SORT_ORDERS, { description: 'relevance (the default with q; without q, title), title, price_asc, price_desc or newest' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: `Items per page (default ${DEFAULT_LIMIT})` })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type ListProductsQuery = Static<typeof ListProductsQuery>;

export const Product = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ maxLength: 300 }),
    authors: Type.Array(Type.String({ maxLength: 200 })),
    isbn: Type.String({ pattern: '^97[89][0-9]{10}$', description: 'ISBN-13' }),
    description: Type.String({ maxLength: 10_000 }),
    price: Money,
    category: Type.Union([CategoryRef, Type.Null()]),
    status: Type.Enum(BOOK_STATUSES, { description: 'unavailable books are not listed, but can still be read by id' }),
    availability: Type.Enum(['in_stock', 'out_of_stock'], { description: 'From the inventory service' }),
    inStock: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type Product = Static<typeof Product>;

export const ProductPage = Type.Object(
  {
    items: Type.Array(Product),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  },
  { additionalProperties: false },
);
export type ProductPage = Static<typeof ProductPage>;
