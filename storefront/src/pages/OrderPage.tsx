/**
 * One order, live. This is where the payment gateway sends the reader back
 * (`/orders/:id?payment=<id>&result=success|cancelled`) and where "My orders" leads. The gateway's callback
 * may arrive after the reader does, so while something is under way (a payment being confirmed, a window
 * closing, a refund) the page asks for the order every second — for a bounded time, then it says it is
 * still waiting and offers to look again. What it shows follows the order's status and its latest payment:
 * the confirmation, a failure with its reason and a retry, a cancellation with a retry while the window is
 * open, the timeout explanation, the refund.
 */
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, follow, messageOf } from '../api.ts';
import { useCart } from '../cart.tsx';
import { OrderSummary, PaymentAttempts, StatusBadge, shortId, Timeline } from '../components/OrderParts.tsx';
import { BusyButton, ErrorNotice, Loading, Notice, Price } from '../components/ui.tsx';
import { formatDate, formatDateTime, formatDuration, formatMoney, formatTime } from '../format.ts';
import { usePageTitle } from '../hooks.ts';
import { goToPayment, retryPayment } from '../payment.ts';
import type { Order } from '../types.ts';

/** Fast: something is under way and the reader waits for it. Slow: it is the reader's turn, but the window may close. */
type Watch = 'fast' | 'slow' | 'none';

const FAST_MS = 1_000;
/** How long the server may hold a question about an order that is changing (it answers at once on a change). */
const LONG_POLL_SECONDS = 10;
const SLOW_MS = 5_000;
/** How long to wait for something under way before saying so and stopping. */
const FAST_LIMIT_MS = 90_000;
/** How long to keep an eye on an order that waits for the reader. */
const SLOW_LIMIT_MS = 30 * 60_000;
/** Failed polls in a row before the page says the connection is lost. */
const MAX_FAILURES = 4;

const WINDOW_CLOSED = 'payment window closed';
const OUT_OF_STOCK = 'out of stock after payment';

const lastEvent = (o: Order) => o.timeline.at(-1)?.event;
const refundRequested = (o: Order) => o.status === 'paid' && o.timeline.some((t) => t.event === 'refund-requested') && lastEvent(o) !== 'paid';
const deadlinePassed = (o: Order) => Date.now() >= Date.parse(o.paymentDeadline);
/** Whether a new payment attempt may be opened: the order says so (actions), or, from older services, the window is open. */
const canRetry = (o: Order) => o.status === 'created' && !deadlinePassed(o) && (o.actions ? o.actions.canRetryPayment : true);
const canRefund = (o: Order) => o.status === 'paid' && !refundRequested(o) && (o.actions ? o.actions.canRefund : true);
/** The payment window of this order, in seconds. */
const windowSeconds = (o: Order) => Math.round((Date.parse(o.paymentDeadline) - Date.parse(o.createdAt)) / 1000);

function watchOf(o: Order, result: string | null): Watch {
  switch (o.status) {
    case 'paid':
      return refundRequested(o) ? 'fast' : 'none';
    case 'refunded':
      return 'none';
    case 'cancelled':
      // Money that arrived anyway is being given back.
      return o.timeline.some((t) => t.event === 'refund-requested') ? 'slow' : 'none';
    case 'created': {
      const p = o.payment;
      if (!p || deadlinePassed(o)) return 'fast';
      if (p.status === 'pending') return result === 'success' || !p.paymentUrl ? 'fast' : 'slow';
      if (p.status === 'success' || p.status === 'timeout') return 'fast';
      return 'slow';
    }
    default:
      return 'none';
  }
}

export function OrderPage() {
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const result = params.get('result');
  const { refresh: refreshCart } = useCart();
  const [loaded, setOrder] = useState<Order | null>(null);
  // Another order's page (a link from this one): never show the previous order meanwhile.
  const order = loaded && loaded.id.toLowerCase() === id.toLowerCase() ? loaded : null;
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [stalled, setStalled] = useState(false);
  const [shaky, setShaky] = useState(false);
  /** Bumped to start watching again (Refresh, after a retry or a refund request). */
  const [round, setRound] = useState(0);
  const restart = useCallback(() => setRound((r) => r + 1), []);
  /** After the reader did something (retry, refund): show the answer, and watch again. */
  const onChanged = useCallback(
    (updated?: Order) => {
      if (updated) setOrder(updated);
      restart();
    },
    [restart],
  );
  usePageTitle(order ? `Order ${shortId(order.id)}` : 'Your order');

  useEffect(() => {
    void round;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let fastSince: number | null = null;
    const started = Date.now();
    let seen = false;
    setLoadError(null);
    setStalled(false);
    setShaky(false);

    let tag: string | null = null;
    let watch: Watch = 'fast';
    const poll = async () => {
      let next: Watch = watch;
      try {
        // While something is under way the server holds the question until the order changes (long polling).
        const answer = await follow<Order>(`/api/orders/${encodeURIComponent(id)}`, tag, watch === 'fast' ? LONG_POLL_SECONDS : 0, {
          signal: controller.signal,
        });
        if (controller.signal.aborted) return;
        seen = true;
        failures = 0;
        setLoadError(null);
        setShaky(false);
        if (answer.value) {
          tag = answer.tag;
          setOrder(answer.value);
          next = watchOf(answer.value, result);
          watch = next;
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        failures++;
        const e = err instanceof ApiError ? err : new ApiError(0, messageOf(err));
        // Not found or not yours, signed out, or never loaded: say so at once. Otherwise keep trying a little.
        if (!seen || e.status === 404 || e.status === 401 || e.status === 400 || failures >= MAX_FAILURES) {
          setLoadError(e);
          return;
        }
        setShaky(true);
      }
      if (next === 'none') return;
      const now = Date.now();
      if (next === 'fast') fastSince ??= now;
      else fastSince = null;
      if ((fastSince !== null && now - fastSince > FAST_LIMIT_MS) || now - started > SLOW_LIMIT_MS) {
        setStalled(true);
        return;
      }
      // Fast: the long poll itself was the wait, so ask again at once (after a failed one, pause first).
      timer = setTimeout(poll, next === 'fast' ? (failures === 0 ? 0 : FAST_MS) : SLOW_MS);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, result, round]);

  // The cart service empties the cart once the order is paid: show that in the header.
  const status = order?.status;
  useEffect(() => {
    if (status === 'paid') void refreshCart();
  }, [status, refreshCart]);

  if (!order) {
    if (!loadError) return <Loading label="Loading your order…" />;
    return (
      <section className="page">
        <h1>{loadError.status === 404 || loadError.status === 400 ? 'Order not found' : 'Your order could not be loaded'}</h1>
        {loadError.status === 404 || loadError.status === 400 ? (
          <p>
            We could not find this order in your account. If you placed it with another account, sign in with that one.{' '}
            <Link to="/orders">See your orders</Link>.
          </p>
        ) : (
          <ErrorNotice message={loadError.message} onRetry={restart} />
        )}
      </section>
    );
  }

  return (
    <section className="page order-page">
      <p className="breadcrumbs">
        <Link to="/orders">My orders</Link> › Order {shortId(order.id)}
      </p>
      <Outcome order={order} result={result} onChanged={onChanged} />
      {stalled && (
        <Notice kind="warning" title="Still waiting">
          <p>This is taking longer than usual. Nothing is lost: the page is up to date as of {formatTime(new Date().toISOString())}.</p>
          <button type="button" className="button secondary" onClick={restart}>
            Refresh
          </button>
        </Notice>
      )}
      {shaky && !loadError && (
        <p className="muted" role="status">
          The connection to the shop is unsteady; trying again…
        </p>
      )}
      {loadError && <ErrorNotice message={`${loadError.message} What you see may be out of date.`} onRetry={restart} retryLabel="Refresh" />}
      <div className="order-columns">
        <OrderSummary order={order} />
        <section className="card" aria-labelledby="history-heading">
          <h2 id="history-heading">
            What happened <StatusBadge status={order.status} />
          </h2>
          <Timeline entries={order.timeline} />
          <PaymentAttempts payments={order.payments} />
          <p className="muted small">
            Order {order.id}, placed {formatDateTime(order.createdAt)}.
          </p>
        </section>
      </div>
    </section>
  );
}

/** The headline of the order's state and what the reader can do now. */
function Outcome({ order, result, onChanged }: { order: Order; result: string | null; onChanged: (o?: Order) => void }) {
  const [busy, setBusy] = useState<'retry' | 'refund' | null>(null);
  const [confirmRefund, setConfirmRefund] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const p = order.payment;
  const latest = order.payments.find((a) => a.id === p?.id) ?? order.payments.at(-1);

  // A change of state is announced: the headline takes focus.
  const key = `${order.status}|${p?.status ?? ''}|${refundRequested(order)}`;
  const previousKey = useRef(key);
  useEffect(() => {
    if (previousKey.current !== key) heading.current?.focus();
    previousKey.current = key;
  }, [key]);

  const onRetry = async () => {
    setBusy('retry');
    setError(null);
    try {
      if ((await retryPayment(order.id)) === 'waiting') {
        setBusy(null);
        onChanged();
      }
    } catch (err) {
      setBusy(null);
      setError(messageOf(err));
      onChanged();
    }
  };

  const onRefund = async () => {
    setBusy('refund');
    setError(null);
    try {
      const updated = await api<Order>('POST', `/api/orders/${encodeURIComponent(order.id)}/refund`, { timeoutMs: 30_000 });
      setConfirmRefund(false);
      onChanged(updated);
    } catch (err) {
      setError(messageOf(err));
      onChanged();
    } finally {
      setBusy(null);
    }
  };

  const retryButton = (
    <BusyButton busy={busy === 'retry'} busyLabel="Opening the payment page…" onClick={onRetry}>
      Try again
    </BusyButton>
  );
  const until = `${formatTime(order.paymentDeadline)}${new Date(order.paymentDeadline).toDateString() === new Date().toDateString() ? '' : ` on ${formatDate(order.paymentDeadline)}`}`;

  let title: string;
  let kind: 'success' | 'info' | 'warning' | 'error' = 'info';
  let body: ReactNode;

  if (order.status === 'paid' && refundRequested(order)) {
    title = 'Your refund is on its way';
    body = (
      <>
        <p>
          You asked for your money back. We are refunding <Price money={order.total} /> to your card and will confirm here in a moment.
        </p>
        <Loading label="Waiting for the payment gateway to confirm the refund…" />
      </>
    );
  } else if (order.status === 'paid') {
    title = 'Thank you — your order is paid';
    kind = 'success';
    body = (
      <>
        <p>
          We have received your payment of <Price money={order.total} />. Your books will be sent to {order.shippingAddress.name} in{' '}
          {order.shippingAddress.city}.
        </p>
        {canRefund(order) && !confirmRefund && (
          <p>
            Changed your mind?{' '}
            {order.actions?.refundableUntil ? `You can return this order until ${formatDate(order.actions.refundableUntil)}. ` : 'You can return this order. '}
            <button type="button" className="button secondary" onClick={() => setConfirmRefund(true)}>
              Request refund
            </button>
          </p>
        )}
        {canRefund(order) && confirmRefund && (
          <fieldset className="confirm">
            <legend>Confirm the refund</legend>
            <p>
              Refund <Price money={order.total} /> to your card and cancel the delivery?
            </p>
            <BusyButton busy={busy === 'refund'} busyLabel="Requesting the refund…" onClick={onRefund}>
              Yes, refund {formatMoney(order.total)}
            </BusyButton>{' '}
            <button type="button" className="button secondary" onClick={() => setConfirmRefund(false)} disabled={busy === 'refund'}>
              Keep my order
            </button>
          </fieldset>
        )}
        {!canRefund(order) && order.actions && order.actions.refundableUntil && Date.parse(order.actions.refundableUntil) < Date.now() && (
          <p className="muted">The time to return this order ended on {formatDate(order.actions.refundableUntil)}.</p>
        )}
      </>
    );
  } else if (order.status === 'refunded') {
    title = 'Your order was refunded';
    kind = 'success';
    body = (
      <>
        <p>
          We have refunded <Price money={order.total} /> to your card. It can take a few days to show on your statement.
        </p>
        {order.cancelReason === OUT_OF_STOCK && <p>We could not deliver the books after all (they sold out), so we gave your money back in full.</p>}
        {order.cancelReason === WINDOW_CLOSED && <p>Your payment arrived after the time to pay had run out, so we gave it back in full.</p>}
      </>
    );
  } else if (order.status === 'cancelled' && order.cancelReason === WINDOW_CLOSED) {
    title = 'Your order was cancelled';
    kind = 'warning';
    body = (
      <>
        <p>
          The order was not paid within {formatDuration(windowSeconds(order))} of placing it, so we cancelled it. Nothing was charged, and the books are still
          in your cart.
        </p>
        <p>
          <Link to="/cart" className="button">
            Go to your cart
          </Link>
        </p>
      </>
    );
  } else if (order.status === 'cancelled') {
    title = 'Your order was cancelled';
    kind = 'warning';
    body = (
      <p>
        {order.cancelReason === OUT_OF_STOCK
          ? 'The books sold out before we could set them aside for you. Any payment taken is refunded to your card automatically.'
          : `The order was cancelled${order.cancelReason ? ` (${order.cancelReason})` : ''}. Any payment taken is refunded automatically.`}
      </p>
    );
  } else if (!p) {
    title = 'Preparing your payment';
    body = <Loading label="Opening the secure payment page…" />;
  } else if (p.status === 'success') {
    title = 'Payment received';
    kind = 'success';
    body = <Loading label="Confirming your order…" />;
  } else if (p.status === 'pending' && result === 'success') {
    title = 'Confirming your payment';
    body = <Loading label="Waiting for the payment gateway to confirm your payment. This usually takes a few seconds…" />;
  } else if (deadlinePassed(order) || p.status === 'timeout') {
    title = 'The time to pay has run out';
    kind = 'warning';
    body = (
      <>
        <p>This order was not paid in time, so it is being cancelled. Nothing was charged.</p>
        <Loading label="Cancelling the order…" />
      </>
    );
  } else if (p.status === 'pending') {
    title = 'Awaiting your payment';
    body = (
      <>
        <p>
          Please pay <Price money={order.total} /> by {until}; after that the order is cancelled.
        </p>
        {p.paymentUrl ? (
          <p>
            <button type="button" className="button" onClick={() => p.paymentUrl && goToPayment(order.id, p.paymentUrl)}>
              Continue to payment
            </button>
          </p>
        ) : (
          <Loading label="Opening the secure payment page…" />
        )}
      </>
    );
  } else if (p.status === 'failed') {
    title = 'Your payment did not go through';
    kind = 'error';
    body = (
      <>
        <p className="reason">
          <strong>Reason:</strong> {latest?.failureReason ? sentence(latest.failureReason) : 'The payment was declined.'}
        </p>
        {canRetry(order) ? (
          <>
            <p>Nothing was charged. You can try again, with the same or another card, until {until}.</p>
            <p>{retryButton}</p>
          </>
        ) : (
          <p>The time to pay for this order has run out. Nothing was charged.</p>
        )}
      </>
    );
  } else {
    // Cancelled on the payment page (or an attempt given up on).
    title = 'Payment cancelled';
    kind = 'warning';
    body = canRetry(order) ? (
      <>
        <p>You cancelled the payment, so nothing was charged. Your order is kept for you until {until}.</p>
        <p>{retryButton}</p>
      </>
    ) : (
      <p>You cancelled the payment and the time to pay has run out, so the order cannot be paid any more. Nothing was charged.</p>
    );
  }

  return (
    <div className={`outcome outcome-${kind}`}>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {body}
      {error && <ErrorNotice message={error} />}
    </div>
  );
}

const sentence = (s: string) => {
  const t = s.trim();
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
};
