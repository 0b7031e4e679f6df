/** Staff: every reader's orders, newest first, filtered by status, each with its payments and timeline. */
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, messageOf } from '../api.ts';
import { OrderSummary, PaymentAttempts, StatusBadge, shortId, Timeline } from '../components/OrderParts.tsx';
import { ErrorNotice, Loading, Price } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';
import type { Order, Page } from '../types.ts';

const PAGE_SIZE = 20;
const STATUSES = [
  { value: '', label: 'All' },
  { value: 'created', label: 'Awaiting payment' },
  { value: 'paid', label: 'Paid' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'refunded', label: 'Refunded' },
];

export function AdminOrdersPage() {
  usePageTitle('All orders');
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const first = useLoad((signal) => api<Page<Order>>('GET', '/api/admin/orders', { signal, query: { status, limit: PAGE_SIZE } }), status);
  const [more, setMore] = useState<{ for: string; items: Order[]; cursor: string | null | undefined; busy: boolean; error: string | null } | null>(null);
  const extra = more?.for === status ? more : null;

  const loadMore = async (cursor: string) => {
    setMore({ for: status, items: extra?.items ?? [], cursor, busy: true, error: null });
    try {
      const page = await api<Page<Order>>('GET', '/api/admin/orders', { query: { status, limit: PAGE_SIZE, cursor } });
      setMore({ for: status, items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor, busy: false, error: null });
    } catch (err) {
      setMore({ for: status, items: extra?.items ?? [], cursor, busy: false, error: messageOf(err) });
    }
  };

  return (
    <section className="page">
      <h1>All orders</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="status-filter">Status</label>
          <select id="status-filter" value={status} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}>
            {STATUSES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {first.state.status === 'loading' && <Loading label="Loading orders…" />}
      {first.state.status === 'error' && (
        <ErrorNotice
          message={first.state.httpStatus === 404 ? 'The order listing is not available on this server yet.' : first.state.error}
          onRetry={first.reload}
        />
      )}
      {first.state.status === 'ok' &&
        (() => {
          const items = [...first.state.data.items, ...(extra?.items ?? [])];
          const cursor = extra ? extra.cursor : first.state.data.nextCursor;
          return (
            <>
              {items.length === 0 ? (
                <p>No orders{status ? ' with this status' : ''}.</p>
              ) : (
                <table className="data-table">
                  <caption className="visually-hidden">Orders</caption>
                  <thead>
                    <tr>
                      <th scope="col">Order</th>
                      <th scope="col">Placed</th>
                      <th scope="col">Reader</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">
                        Total
                      </th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((o) => (
                      <AdminOrderRow key={o.id} order={o} />
                    ))}
                  </tbody>
                </table>
              )}
              {extra?.error && <ErrorNotice message={extra.error} onRetry={() => cursor && loadMore(cursor)} />}
              {cursor && (
                <button type="button" className="button secondary" onClick={() => loadMore(cursor)} disabled={extra?.busy}>
                  {extra?.busy ? 'Loading…' : 'Show older orders'}
                </button>
              )}
            </>
          );
        })()}
    </section>
  );
}

function AdminOrderRow({ order }: { order: Order }) {
  const [open, setOpen] = useState(false);
  const detailsId = `order-details-${order.id}`;
  return (
    <>
      <tr>
        <td>{shortId(order.id)}</td>
        <td>{formatDateTime(order.createdAt)}</td>
        <td title={order.userId}>{order.userId ? shortId(order.userId) : '—'}</td>
        <td>
          <StatusBadge status={order.status} />
        </td>
        <td className="num">
          <Price money={order.total} />
        </td>
        <td>
          <button type="button" className="link-button" aria-expanded={open} aria-controls={detailsId} onClick={() => setOpen(!open)}>
            {open ? 'Hide' : 'Show'} <span className="visually-hidden">order {shortId(order.id)}</span>
          </button>
        </td>
      </tr>
      {open && (
        <tr id={detailsId}>
          <td colSpan={6}>
            <div className="order-columns">
              <OrderSummary order={order} heading={`Order ${order.id}`} />
              <div className="card">
                <h3>Timeline</h3>
                <Timeline entries={order.timeline} />
                <PaymentAttempts payments={order.payments} />
              </div>
            </div>
          </td>
        </tr>
      )}
    </>
  );
}
