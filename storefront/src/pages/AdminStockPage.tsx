/** Staff: stock levels of the catalogue's books, a page at a time, and restocking a book. */
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, messageOf } from '../api.ts';
import { BusyButton, ErrorNotice, Loading } from '../components/ui.tsx';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { Page, Product, StockLevel } from '../types.ts';

const PAGE_SIZE = 20;

async function loadStock(q: string, cursor: string, signal: AbortSignal) {
  const products = await api<Page<Product>>('GET', '/api/products', { signal, query: { q, cursor, limit: PAGE_SIZE, sort: q ? undefined : 'title' } });
  const ids = products.items.map((p) => p.id);
  const levels = ids.length ? await api<{ items: StockLevel[] }>('GET', '/api/inventory', { signal, query: { ids: ids.join(',') } }) : { items: [] };
  return { products, stock: new Map(levels.items.map((s) => [s.bookId, s])) };
}

export function AdminStockPage() {
  usePageTitle('Stock');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const cursor = params.get('cursor') ?? '';
  const [draft, setDraft] = useState(q);
  const data = useLoad((signal) => loadStock(q, cursor, signal), `${q}|${cursor}`);
  const [updated, setUpdated] = useState<Record<string, StockLevel>>({});

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setParams(draft.trim() ? { q: draft.trim() } : {});
  };

  return (
    <section className="page">
      <h1>Stock</h1>
      <search>
        <form className="filters" onSubmit={onSearch}>
          <div className="field grow">
            <label htmlFor="stock-search">Find a book</label>
            <input id="stock-search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Title, author or ISBN" />
          </div>
          <button type="submit" className="button">
            Search
          </button>
        </form>
      </search>
      {data.state.status === 'loading' && <Loading label="Loading stock levels…" />}
      {data.state.status === 'error' && <ErrorNotice message={data.state.error} onRetry={data.reload} />}
      {data.state.status === 'ok' && (
        <>
          {data.state.data.products.items.length === 0 ? (
            <p>No books match.</p>
          ) : (
            <table className="data-table">
              <caption className="visually-hidden">Stock levels</caption>
              <thead>
                <tr>
                  <th scope="col">Book</th>
                  <th scope="col" className="num">
                    On hand
                  </th>
                  <th scope="col" className="num">
                    Reserved
                  </th>
                  <th scope="col" className="num">
                    Available
                  </th>
                  <th scope="col">Restock</th>
                </tr>
              </thead>
              <tbody>
                {data.state.data.products.items.map((p) => (
                  <StockRow
                    key={p.id}
                    product={p}
                    stock={updated[p.id] ?? (data.state.status === 'ok' ? data.state.data.stock.get(p.id) : undefined)}
                    onRestocked={(s) => setUpdated((u) => ({ ...u, [p.id]: s }))}
                  />
                ))}
              </tbody>
            </table>
          )}
          <nav className="pager" aria-label="Pages of books">
            {cursor && (
              <Link className="button secondary" to={q ? `?q=${encodeURIComponent(q)}` : '?'}>
                First page
              </Link>
            )}
            {data.state.data.products.nextCursor && (
              <Link
                className="button secondary"
                to={`?${new URLSearchParams({ ...(q ? { q } : {}), cursor: data.state.data.products.nextCursor }).toString()}`}
              >
                Next page
              </Link>
            )}
          </nav>
        </>
      )}
    </section>
  );
}

function StockRow({ product, stock, onRestocked }: { product: Product; stock: StockLevel | undefined; onRestocked: (s: StockLevel) => void }) {
  const [quantity, setQuantity] = useState('10');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const id = `restock-${product.id}`;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(quantity);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      setMessage({ ok: false, text: 'Enter a number of copies from 1 to 10,000.' });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const s = await api<StockLevel>('POST', `/api/inventory/${product.id}/restock`, { body: { quantity: n } });
      onRestocked(s);
      setMessage({ ok: true, text: `Added ${n}; ${s.available} available now.` });
    } catch (err) {
      setMessage({ ok: false, text: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr>
      <td>
        <Link to={`/books/${product.id}`}>{product.title}</Link>
        <div className="muted small">{product.isbn}</div>
      </td>
      <td className="num">{stock ? stock.onHand : '—'}</td>
      <td className="num">{stock ? stock.reserved : '—'}</td>
      <td className="num">{stock ? stock.available : <span className="muted">no stock yet</span>}</td>
      <td>
        <form className="inline-form" onSubmit={onSubmit}>
          <label htmlFor={id} className="visually-hidden">
            Copies to add for {product.title}
          </label>
          <input id={id} type="number" min={1} max={10000} value={quantity} onChange={(e) => setQuantity(e.target.value)} className="narrow-input" />
          <BusyButton type="submit" className="button small" busy={busy} busyLabel="Adding…" aria-describedby={message ? `${id}-msg` : undefined}>
            Restock
          </BusyButton>
        </form>
        {message && (
          <p id={`${id}-msg`} className={message.ok ? 'small ok' : 'field-error'} role={message.ok ? 'status' : 'alert'}>
            {message.text}
          </p>
        )}
      </td>
    </tr>
  );
}
