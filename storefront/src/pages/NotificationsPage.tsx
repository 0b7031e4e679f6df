/** The messages Folio sent the reader about their orders (paid, payment failed, cancelled, refunded). */
import { Link } from 'react-router';
import { shortId } from '../components/OrderParts.tsx';
import { ErrorNotice, Loading } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useCursorPages, usePageTitle } from '../hooks.ts';
import type { Notification } from '../types.ts';

const PAGE_SIZE = 20;

const KIND: Record<string, string> = {
  'order-paid': 'Order paid',
  'payment-failed': 'Payment failed',
  'order-cancelled': 'Order cancelled',
  'order-refunded': 'Refund',
};

export function NotificationsPage() {
  usePageTitle('Notifications');
  const list = useCursorPages<Notification>('/api/notifications', PAGE_SIZE);
  const { first } = list;

  if (first.state.status === 'loading') return <Loading label="Loading your notifications…" />;
  if (first.state.status === 'error')
    return (
      <section className="page">
        <h1>Notifications</h1>
        <ErrorNotice message={first.state.httpStatus === 404 ? 'Notifications are not available at the moment.' : first.state.error} onRetry={first.reload} />
      </section>
    );
  const { items } = list;

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
      {list.moreError && <ErrorNotice message={list.moreError} onRetry={list.loadMore} />}
      {list.hasMore && (
        <button type="button" className="button secondary" onClick={list.loadMore} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : 'Show older notifications'}
        </button>
      )}
    </section>
  );
}
