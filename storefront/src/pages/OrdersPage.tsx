/** "My orders": newest first, each with its status, total and timeline; more on demand. */
import { useState } from 'react';
import { Link } from 'react-router';
import { api, messageOf } from '../api.ts';
import { StatusBadge, shortId, Timeline } from '../components/OrderParts.tsx';
import { ErrorNotice, Loading, Price } from '../components/ui.tsx';
import { formatDateTime, plural } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { Order, Page } from '../types.ts';

const PAGE_SIZE = 10;

export function OrdersPage() {
  usePageTitle('My orders');
  const first = useLoad((signal) => api<Page<Order>>('GET', '/api/orders', { signal, query: { limit: PAGE_SIZE } }), 'orders');
  const [more, setMore] = useState<{ items: Order[]; cursor: string | null | undefined; busy: boolean; error: string | null } | null>(null);

  if (first.state.status === 'loading') return <Loading label="Loading your orders…" />;
  if (first.state.status === 'error')
    return (
      <section className="page">
        <h1>My orders</h1>
        <ErrorNotice message={first.state.error} onRetry={first.reload} />
      </section>
    );
  const items = [...first.state.data.items, ...(more?.items ?? [])];
  const cursor = more ? more.cursor : first.state.data.nextCursor;

  const loadMore = async () => {
    if (!cursor) return;
    setMore((m) => ({ items: m?.items ?? [], cursor, busy: true, error: null }));
    try {
      const page = await api<Page<Order>>('GET', '/api/orders', { query: { limit: PAGE_SIZE, cursor } });
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.nextCursor, busy: false, error: null }));
    } catch (err) {
      setMore((m) => ({ items: m?.items ?? [], cursor, busy: false, error: messageOf(err) }));
    }
  };

  return (
    <section className="page">
      <h1>My orders</h1>
      {items.length === 0 ? (
        <div className="empty">
          <p>You have not ordered anything yet.</p>
          <p>
            <Link to="/" className="button">
              Browse books
            </Link>
          </p>
        </div>
      ) : (
        <ul className="order-list" aria-label="Your orders">
          {items.map((o) => (
            <li key={o.id} className="card order-item">
              <div className="order-head">
                <h2>
                  <Link to={`/orders/${o.id}`}>Order {shortId(o.id)}</Link>
                </h2>
                <StatusBadge status={o.status} />
              </div>
              <p>
                Placed {formatDateTime(o.createdAt)} ·{' '}
                {plural(
                  o.lines.reduce((n, l) => n + l.quantity, 0),
                  'book',
                )}{' '}
                · <Price money={o.total} />
              </p>
              <p className="muted">{o.lines.map((l) => l.title).join(', ')}</p>
              <details>
                <summary>Timeline</summary>
                <Timeline entries={o.timeline} label={`Timeline of order ${shortId(o.id)}`} />
              </details>
            </li>
          ))}
        </ul>
      )}
      {more?.error && <ErrorNotice message={more.error} onRetry={loadMore} />}
      {cursor && (
        <button type="button" className="button secondary" onClick={loadMore} disabled={more?.busy}>
          {more?.busy ? 'Loading…' : 'Show older orders'}
        </button>
      )}
    </section>
  );
}
