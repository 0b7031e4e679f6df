/** The catalogue: search, a category filter, sorting, pages of books with their availability. */
import { type FormEvent, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { api, messageOf } from '../api.ts';
import { useCart } from '../cart.tsx';
import { Cover } from '../components/Cover.tsx';
import { ErrorNotice, Loading, Price } from '../components/ui.tsx';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { CategoryNode, Page, Product } from '../types.ts';

const PAGE_SIZE = 12;
const SORTS: Array<{ value: string; label: string }> = [
  { value: '', label: 'Best match' },
  { value: 'title', label: 'Title' },
  { value: 'price_asc', label: 'Price: low to high' },
  { value: 'price_desc', label: 'Price: high to low' },
  { value: 'newest', label: 'Newest' },
];

interface PagingState {
  /** The cursors of the pages before this one ('' for the first), to go back. */
  cursors?: string[];
}

export function CataloguePage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const sort = params.get('sort') ?? '';
  const cursor = params.get('cursor') ?? '';
  const previous = (location.state as PagingState | null)?.cursors ?? [];
  usePageTitle(q ? `Books matching “${q}”` : 'Books');

  const categories = useLoad((signal) => api<{ items: CategoryNode[] }>('GET', '/api/categories', { signal }), 'categories');
  const products = useLoad(
    (signal) => api<Page<Product>>('GET', '/api/products', { signal, query: { q, category, sort, cursor, limit: PAGE_SIZE } }),
    JSON.stringify([q, category, sort, cursor]),
  );

  const go = (next: { q?: string; category?: string; sort?: string; cursor?: string }, state?: PagingState) => {
    const merged = { q, category, sort, ...next };
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(merged)) if (v) search.set(k, v);
    navigate({ pathname: '/', search: search.toString() ? `?${search}` : '' }, { state });
  };

  const [draft, setDraft] = useState(q);
  const [draftFor, setDraftFor] = useState(q);
  if (draftFor !== q) {
    // The query changed from outside (back button): show it in the box.
    setDraftFor(q);
    setDraft(q);
  }
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    go({ q: draft.trim(), cursor: '' });
  };

  const page = products.state.status === 'ok' ? products.state.data : null;

  return (
    <section className="page">
      <h1>{q ? `Books matching “${q}”` : 'Find your next book'}</h1>
      <search>
        <form className="filters" onSubmit={onSearch}>
          <div className="field grow">
            <label htmlFor="search">Search books</label>
            <input
              id="search"
              type="search"
              name="q"
              placeholder="Title, author or ISBN"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              maxLength={200}
            />
          </div>
          <div className="field">
            <label htmlFor="category">Category</label>
            <select id="category" value={category} onChange={(e) => go({ category: e.target.value, cursor: '' })} disabled={categories.state.status !== 'ok'}>
              <option value="">All categories</option>
              {categories.state.status === 'ok' &&
                categories.state.data.items.map((c) => (
                  <optgroup key={c.id} label={c.name}>
                    <option value={c.slug}>All of {c.name}</option>
                    {c.children.map((s) => (
                      <option key={s.id} value={s.slug}>
                        {s.name}
                      </option>
                    ))}
                  </optgroup>
                ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="sort">Sort by</label>
            <select id="sort" value={sort} onChange={(e) => go({ sort: e.target.value, cursor: '' })}>
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button">
            Search
          </button>
        </form>
      </search>
      {categories.state.status === 'error' && <p className="muted">Categories could not be loaded; searching still works.</p>}

      {products.state.status === 'loading' && <Loading label="Loading books…" />}
      {products.state.status === 'error' && (
        <ErrorNotice
          message={products.state.error}
          onRetry={() => {
            products.reload();
            if (categories.state.status === 'error') categories.reload();
          }}
        />
      )}
      {page && page.items.length === 0 && (
        <div className="empty">
          <p>{q || category ? 'No books match your search.' : 'There are no books in the shop yet.'}</p>
          {(q || category) && (
            <p>
              Try fewer words, another spelling, or <Link to="/">all books</Link>.
            </p>
          )}
        </div>
      )}
      {page && page.items.length > 0 && (
        <>
          <ul className="book-grid" aria-label="Books">
            {page.items.map((p) => (
              <BookCard key={p.id} product={p} />
            ))}
          </ul>
          <nav className="pager" aria-label="Pages of books">
            <button
              type="button"
              className="button secondary"
              disabled={previous.length === 0}
              onClick={() => go({ cursor: previous.at(-1) ?? '' }, { cursors: previous.slice(0, -1) })}
            >
              Previous page
            </button>
            <span aria-live="polite">Page {previous.length + 1}</span>
            <button
              type="button"
              className="button secondary"
              disabled={!page.nextCursor}
              onClick={() => page.nextCursor && go({ cursor: page.nextCursor }, { cursors: [...previous, cursor] })}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

export function Availability({ inStock, available }: { inStock: boolean; available?: number | null }) {
  if (!inStock) return <span className="availability out">Out of stock</span>;
  if (typeof available === 'number' && available > 0 && available <= 5) return <span className="availability low">Only {available} left</span>;
  return <span className="availability in">In stock</span>;
}

function BookCard({ product }: { product: Product }) {
  const { add } = useCart();
  const [state, setState] = useState<{ busy: boolean; message?: string; error?: string }>({ busy: false });
  const onAdd = async () => {
    setState({ busy: true });
    try {
      await add(product.id, 1);
      setState({ busy: false, message: 'Added to your cart.' });
    } catch (err) {
      setState({ busy: false, error: messageOf(err) });
    }
  };
  const titleId = `book-${product.id}`;
  return (
    <li className="book-card" aria-labelledby={titleId}>
      <Cover product={product} />
      <h2 id={titleId} className="book-title">
        <Link to={`/books/${product.id}`}>{product.title}</Link>
      </h2>
      <p className="authors">{product.authors.join(', ')}</p>
      <p className="meta">
        <Price money={product.price} /> <Availability inStock={product.inStock} />
      </p>
      <button
        type="button"
        className="button small"
        onClick={onAdd}
        disabled={!product.inStock || state.busy}
        aria-label={`Add “${product.title}” to cart`}
        aria-busy={state.busy}
      >
        {state.busy ? 'Adding…' : 'Add to cart'}
      </button>
      <p className="card-status" role="status">
        {state.message && (
          <>
            {state.message} <Link to="/cart">View cart</Link>
          </>
        )}
      </p>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
    </li>
  );
}
