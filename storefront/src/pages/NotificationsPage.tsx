/** The messages Folio sent the reader about their orders (paid, payment failed, cancelled, refunded). */
import { useState } from 'react';
import { Link } from 'react-router';
import { api, messageOf } from '../api.ts';
import { shortId } from '../components/OrderParts.tsx';
import { ErrorNotice, Loading } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { Notification, Page } from '../types.ts';

const PAGE_SIZE = 20;

const KIND: Record<string, string> = {
  'order-paid': 'Order paid',
  'payment-failed': 'Payment failed',
  'order-cancelled': 'Order cancelled',
  'order-refunded': 'Refund',
};

export function NotificationsPage() {
  usePageTitle('Notifications');
  const first = useLoad((signal) => api<Page<Notification>>('GET', '/api/notifications', { signal, query: { limit: PAGE_SIZE } }), 'notifications');
  const [more, setMore] = useState<{ items: Notification[]; cursor: string | null | undefined; busy: boolean; error: string | null } | null>(null);

  if (first.state.status === 'loading') return <Loading label="Loading your notifications…" />;
  if (first.state.status === 'error')
    return (
      <section className="page">
        <h1>Notifications</h1>
        <ErrorNotice message={first.state.httpStatus === 404 ? 'Notifications are not available at the moment.' : first.state.error} onRetry={first.reload} />
      </section>
    );
  const items = [...first.state.data.items, ...(more?.items ?? [])];
  const cursor = more ? more.cursor : first.state.data.nextCursor;

  const loadMore = async () => {
    if (!cursor) return;
    setMore((m) => ({ items: m?.items ?? [], cursor, busy: true, error: null }));
    try {
      const page = await api<Page<Notification>>('GET', '/api/notifications', { query: { limit: PAGE_SIZE, cursor } });
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.nextCursor, busy: false, error: null }));
    } catch (err) {
      setMore((m) => ({ items: m?.items ?? [], cursor, busy: false, error: messageOf(err) }));
    }
  };

  return (
    <section className="page">
      <h1>Notifications</h1>
      {items.length === 0 ? (
        <p>No notifications yet. We write to you here (and by e-mail) when an order is paid, a payment fails, or an order is cancelled or refunded.</p>
      ) : (
        <ul className="notification-list" aria-label="Your notifications">
          {items.map((n) => (
            <li key={n.id} className={`card notification notification-${n.type}`}>
              <p className="notification-kind">{KIND[n.type] ?? 'Notice'}</p>
              <h2>{n.subject}</h2>
              <p className="notification-message">{n.message}</p>
              <p className="muted small">
                <time dateTime={n.createdAt}>{formatDateTime(n.createdAt)}</time>
                {n.orderId && (
                  <>
                    {' · '}
                    <Link to={`/orders/${n.orderId}`}>Order {shortId(n.orderId)}</Link>
                  </>
                )}
              </p>
            </li>
          ))}
        </ul>
      )}
      {more?.error && <ErrorNotice message={more.error} onRetry={loadMore} />}
      {cursor && (
        <button type="button" className="button secondary" onClick={loadMore} disabled={more?.busy}>
          {more?.busy ? 'Loading…' : 'Show older notifications'}
        </button>
      )}
    </section>
  );
}
