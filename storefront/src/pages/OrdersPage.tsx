/** "My orders": newest first, each with its status, total and timeline; more on demand. */
import { Link } from 'react-router';
import { StatusBadge, shortId, Timeline } from '../components/OrderParts.tsx';
import { ErrorNotice, Loading, Price } from '../components/ui.tsx';
import { formatDateTime, plural } from '../format.ts';
import { useCursorPages, usePageTitle } from '../hooks.ts';
import type { Order } from '../types.ts';

const PAGE_SIZE = 10;

export function OrdersPage() {
  usePageTitle('My orders');
  const list = useCursorPages<Order>('/api/orders', PAGE_SIZE);
  const { first } = list;

  if (first.state.status === 'loading') return <Loading label="Loading your orders…" />;
  if (first.state.status === 'error')
    return (
      <section className="page">
        <h1>My orders</h1>
        <ErrorNotice message={first.state.error} onRetry={first.reload} />
      </section>
    );
  const { items } = list;

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
      {list.moreError && <ErrorNotice message={list.moreError} onRetry={list.loadMore} />}
      {list.hasMore && (
        <button type="button" className="button secondary" onClick={list.loadMore} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : 'Show older orders'}
        </button>
      )}
    </section>
  );
}
