/** Pieces of an order that several pages show: its status, its summary, its timeline, its payment attempts. */
import { Link } from 'react-router';
import { countryName, formatDateTime } from '../format.ts';
import type { Order, OrderStatus, PaymentAttempt, PaymentStatus, TimelineEntry } from '../types.ts';
import { Price } from './ui.tsx';

const STATUS_LABELS: Record<OrderStatus, string> = {
  created: 'Awaiting payment',
  paid: 'Paid',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
};

export const orderStatusLabel = (status: string) => STATUS_LABELS[status as OrderStatus] ?? status;

export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status}`}>{orderStatusLabel(status)}</span>;
}

const PAYMENT_LABELS: Record<PaymentStatus, string> = {
  pending: 'Waiting for payment',
  success: 'Paid',
  failed: 'Failed',
  cancelled: 'Cancelled by you',
  timeout: 'Timed out',
  refunded: 'Refunded',
};

export const shortId = (id: string) => id.slice(0, 8).toUpperCase();

/** The lines, the totals and where it goes. */
export function OrderSummary({ order, heading = 'Order summary' }: { order: Order; heading?: string }) {
  const a = order.shippingAddress;
  return (
    <section className="card" aria-labelledby={`summary-${order.id}`}>
      <h2 id={`summary-${order.id}`}>{heading}</h2>
      <table className="lines">
        <caption className="visually-hidden">Books in order {shortId(order.id)}</caption>
        <thead>
          <tr>
            <th scope="col">Book</th>
            <th scope="col" className="num">
              Quantity
            </th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((l) => (
            <tr key={l.bookId}>
              <td>
                <Link to={`/books/${l.bookId}`}>{l.title}</Link>
              </td>
              <td className="num">{l.quantity}</td>
              <td className="num">
                <Price money={l.unitPrice} />
              </td>
              <td className="num">
                <Price money={l.lineTotal} />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>
              Subtotal
            </th>
            <td className="num">
              <Price money={order.subtotal} />
            </td>
          </tr>
          <tr>
            <th scope="row" colSpan={3}>
              Shipping ({order.shippingMethod})
            </th>
            <td className="num">
              <Price money={order.shipping} />
            </td>
          </tr>
          <tr>
            <th scope="row" colSpan={3}>
              VAT
            </th>
            <td className="num">
              <Price money={order.tax} />
            </td>
          </tr>
          <tr className="grand-total">
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td className="num">
              <Price money={order.total} />
            </td>
          </tr>
        </tfoot>
      </table>
      <h3>Delivery address</h3>
      <address>
        {a.name}
        <br />
        {a.line1}
        {a.line2 && (
          <>
            <br />
            {a.line2}
          </>
        )}
        <br />
        {a.postalCode} {a.city}
        <br />
        {countryName(a.country)}
      </address>
    </section>
  );
}

const EVENT_LABELS: Record<string, string> = {
  created: 'Order placed',
  'payment-opened': 'Payment page opened',
  'payment-not-opened': 'Payment page could not be opened yet',
  'payment-succeeded': 'Payment received',
  'payment-failed': 'Payment failed',
  'payment-cancelled': 'Payment cancelled',
  'payment-timed-out': 'Payment window closed',
  paid: 'Order paid',
  'refund-requested': 'Refund requested',
  refunded: 'Refunded',
  cancelled: 'Order cancelled',
};

export const eventLabel = (event: string) => EVENT_LABELS[event] ?? event.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** A timeline detail as a reader reads it: times in their format, ids short. */
const readable = (detail: string) => detail.replace(ISO_TIME, (t) => formatDateTime(t)).replace(UUID, (id) => shortId(id));

/** What happened to the order, oldest first. */
export function Timeline({ entries, label = 'Order timeline' }: { entries: TimelineEntry[]; label?: string }) {
  if (entries.length === 0) return <p>Nothing has happened to this order yet.</p>;
  return (
    <ol className="timeline" aria-label={label}>
      {entries.map((e) => (
        <li key={`${e.at}|${e.event}|${e.detail ?? ''}`}>
          <time dateTime={e.at}>{formatDateTime(e.at)}</time>
          <span className="timeline-event">{eventLabel(e.event)}</span>
          {e.detail && <span className="timeline-detail">{readable(e.detail)}</span>}
        </li>
      ))}
    </ol>
  );
}

export function PaymentAttempts({ payments }: { payments: PaymentAttempt[] }) {
  if (payments.length === 0) return null;
  return (
    <table className="attempts">
      <caption>Payment attempts</caption>
      <thead>
        <tr>
          <th scope="col">Attempt</th>
          <th scope="col">Status</th>
          <th scope="col">Last change</th>
        </tr>
      </thead>
      <tbody>
        {payments.map((p, i) => (
          <tr key={p.id}>
            <td>{p.attempt ?? i + 1}</td>
            <td>
              {PAYMENT_LABELS[p.status] ?? p.status}
              {p.failureReason && <span className="muted"> — {p.failureReason}</span>}
            </td>
            <td>{formatDateTime(p.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
