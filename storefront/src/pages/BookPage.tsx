/** One book: its details, price, how many are left, and adding it to the cart. */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api, messageOf } from '../api.ts';
import { useCart } from '../cart.tsx';
import { Cover } from '../components/Cover.tsx';
import { ErrorNotice, Loading, Notice, Price } from '../components/ui.tsx';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { Product, StockLevel } from '../types.ts';
import { Availability } from './CataloguePage.tsx';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loadBook(id: string, signal: AbortSignal): Promise<{ product: Product; stock: StockLevel | null }> {
  if (!UUID.test(id)) throw new ApiError(404, 'We could not find this book.');
  const [product, stock] = await Promise.all([
    api<Product>('GET', `/api/products/${id}`, { signal }),
    // The exact count is a nicety: without it the catalogue's in-stock flag still says enough.
    api<StockLevel>('GET', `/api/inventory/${id}`, { signal, timeoutMs: 5_000 }).catch(() => null),
  ]);
  return { product, stock };
}

export function BookPage() {
  const { id = '' } = useParams();
  const book = useLoad((signal) => loadBook(id, signal), id);
  usePageTitle(book.state.status === 'ok' ? book.state.data.product.title : 'Book');

  if (book.state.status === 'loading') return <Loading label="Loading the book…" />;
  if (book.state.status === 'error')
    return (
      <section className="page">
        <h1>{book.state.httpStatus === 404 ? 'Book not found' : 'This book could not be loaded'}</h1>
        {book.state.httpStatus === 404 ? (
          <p>
            We could not find this book. It may have been removed from the shop. <Link to="/">Browse all books</Link>.
          </p>
        ) : (
          <ErrorNotice message={book.state.error} onRetry={book.reload} />
        )}
      </section>
    );
  const { product, stock } = book.state.data;
  return <BookDetails product={product} stock={stock} />;
}

function BookDetails({ product, stock }: { product: Product; stock: StockLevel | null }) {
  const { add } = useCart();
  const [quantity, setQuantity] = useState(1);
  const [state, setState] = useState<{ busy: boolean; added?: number; error?: string }>({ busy: false });
  const sellable = product.status === 'active' && product.inStock;
  const max = Math.max(1, Math.min(10, stock?.available ?? 10));

  const onAdd = async () => {
    setState({ busy: true });
    try {
      await add(product.id, quantity);
      setState({ busy: false, added: quantity });
    } catch (err) {
      setState({ busy: false, error: messageOf(err) });
    }
  };

  return (
    <article className="page book-page">
      <p className="breadcrumbs">
        <Link to="/">Books</Link>
        {product.category && (
          <>
            {' '}
            › <Link to={`/?category=${encodeURIComponent(product.category.slug)}`}>{product.category.name}</Link>
          </>
        )}
      </p>
      <div className="book-layout">
        <Cover product={product} large />
        <div>
          <h1>{product.title}</h1>
          <p className="authors">by {product.authors.join(', ')}</p>
          <p className="book-price">
            <Price money={product.price} />
          </p>
          <p>
            <Availability inStock={product.inStock} available={stock?.available ?? null} />
          </p>
          {product.status !== 'active' && <Notice kind="warning">This book is no longer sold.</Notice>}
          {sellable && (
            <div className="add-to-cart">
              <div className="field">
                <label htmlFor="quantity">Quantity</label>
                <select id="quantity" value={quantity} onChange={(e) => setQuantity(Number(e.target.value))}>
                  {Array.from({ length: max }, (_, i) => i + 1).map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </div>
              <button type="button" className="button" onClick={onAdd} disabled={state.busy} aria-busy={state.busy}>
                {state.busy ? 'Adding…' : 'Add to cart'}
              </button>
            </div>
          )}
          {state.added && (
            <Notice kind="success">
              {state.added === 1 ? 'The book is' : `${state.added} copies are`} in your cart. <Link to="/cart">Go to your cart</Link>
            </Notice>
          )}
          {state.error && <ErrorNotice message={state.error} />}
          <h2>About this book</h2>
          <p className="description">{product.description || 'No description yet.'}</p>
          <dl className="facts">
            <dt>ISBN</dt>
            <dd>{product.isbn}</dd>
            {product.category && (
              <>
                <dt>Category</dt>
                <dd>{product.category.name}</dd>
              </>
            )}
          </dl>
        </div>
      </div>
    </article>
  );
}
