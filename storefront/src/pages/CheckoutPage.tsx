/**
 * Checkout: the delivery address (a saved one or a new one, checked by the shipping service), the
 * shipping method with its price, the order summary, then placing the order and going to the payment
 * gateway's hosted page. Placing the order carries an Idempotency-Key made once per attempt: pressing the
 * button again after a timeout answers the same order, never a second one.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, api, type FieldErrors, messageOf, newIdempotencyKey } from '../api.ts';
import { useCart } from '../cart.tsx';
import { AddressFields, emptyAddress, missingFields, oneLine } from '../components/AddressFields.tsx';
import { BusyButton, ErrorNotice, Loading, Notice, Price } from '../components/ui.tsx';
import { countryName, formatMoney } from '../format.ts';
import { useLoad, usePageTitle } from '../hooks.ts';
import { goToPayment, waitForPaymentPage } from '../payment.ts';
import { useSession } from '../session.tsx';
import type { Address, Cart, Order, SavedAddress, ShippingOption } from '../types.ts';

const NEW = 'new';

export function CheckoutPage() {
  usePageTitle('Checkout');
  const { refresh } = useCart();
  const data = useLoad(async (signal) => {
    const [cart, addresses] = await Promise.all([
      refresh().then((c) => {
        if (!c) throw new ApiError(0, 'Your cart could not be loaded. Please try again.');
        return c;
      }),
      api<{ items: SavedAddress[] }>('GET', '/api/me/addresses', { signal }).then((r) => r.items),
    ]);
    return { cart, addresses };
  }, 'checkout');

  if (data.state.status === 'loading') return <Loading label="Preparing checkout…" />;
  if (data.state.status === 'error')
    return (
      <section className="page">
        <h1>Checkout</h1>
        <ErrorNotice message={data.state.error} onRetry={data.reload} />
      </section>
    );
  const { cart, addresses } = data.state.data;
  if (cart.items.length === 0)
    return (
      <section className="page">
        <h1>Checkout</h1>
        <p>Your cart is empty, so there is nothing to check out.</p>
        <p>
          <Link to="/" className="button">
            Browse books
          </Link>
        </p>
      </section>
    );
  if (cart.priceChanged || cart.items.some((i) => !i.available))
    return (
      <section className="page">
        <h1>Checkout</h1>
        <Notice kind="warning" title="Please review your cart first">
          <p>Some prices have changed or some books can no longer be bought since you added them.</p>
          <p>
            <Link to="/cart">Review your cart</Link>
          </p>
        </Notice>
      </section>
    );
  return <CheckoutForm cart={cart} addresses={addresses} />;
}

function CheckoutForm({ cart, addresses }: { cart: Cart; addresses: SavedAddress[] }) {
  const navigate = useNavigate();
  const { user } = useSession();
  const preferred = addresses.find((a) => a.isDefault) ?? addresses[0];
  const [choice, setChoice] = useState<string>(preferred?.id ?? NEW);
  const [draft, setDraft] = useState<Address>(() => ({ ...emptyAddress(), name: user?.name ?? '' }));
  const [save, setSave] = useState(true);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [method, setMethod] = useState<string>('');
  const [phase, setPhase] = useState<'idle' | 'checking' | 'placing' | 'redirecting'>('idle');
  const [error, setError] = useState<{ message: string; toCart?: boolean } | null>(null);
  /** One key per attempt at placing this order; the same again after a timeout or a failure. */
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const savedAddress = useRef<string | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  const saved = addresses.find((a) => a.id === choice);
  const address: Address = saved ? stripSaved(saved) : draft;
  const country = address.country;
  const items = cart.items.reduce((n, i) => n + i.quantity, 0);

  const options = useLoad(
    (signal) =>
      api<{ country: string; options: ShippingOption[] }>('GET', '/api/shipping/options', {
        signal,
        query: { country, items: Math.min(items, 200), subtotal: cart.subtotal.amount },
      }).then((r) => r.options),
    `${country}|${items}|${cart.subtotal.amount}`,
  );
  const available = options.state.status === 'ok' ? options.state.data : [];
  const selected = available.find((o) => o.id === method) ?? available[0];
  useEffect(() => {
    if (available.length > 0 && !available.some((o) => o.id === method)) setMethod(available[0]?.id ?? '');
  }, [available, method]);

  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!saved) {
      const missing = missingFields(draft);
      setFieldErrors(missing);
      if (Object.keys(missing).length) {
        focusFirstError(missing);
        return;
      }
    }
    if (!selected) {
      setError({ message: 'Please choose how the books should be shipped.' });
      return;
    }

    // 1. The address, as the shipping service puts it (canonical postal code), or what to fix.
    setPhase('checking');
    let checked: Address;
    try {
      checked = (await api<{ valid: true; address: Address }>('POST', '/api/shipping/validate-address', { body: { address: compact(address) } })).address;
      setFieldErrors({});
    } catch (err) {
      setPhase('idle');
      if (err instanceof ApiError && Object.keys(err.fields).length > 0) {
        setFieldErrors(err.fields);
        if (saved) setError({ message: `The saved address needs correcting: ${Object.values(err.fields).join(' ')}` });
        else focusFirstError(err.fields);
        return;
      }
      setError({ message: messageOf(err) });
      return;
    }

    // 2. Keep a new address for next time (a nicety: checkout goes on if this fails).
    if (!saved && save) {
      const asText = JSON.stringify(checked);
      if (savedAddress.current !== asText) {
        await api('POST', '/api/me/addresses', { body: checked, timeoutMs: 5_000 })
          .then(() => {
            savedAddress.current = asText;
          })
          .catch(() => {});
      }
    }

    // 3. The order, then the payment page.
    setPhase('placing');
    const body = { shippingAddress: checked, shippingMethod: selected.id };
    const bodyText = JSON.stringify(body);
    if (attempt.current?.body !== bodyText) attempt.current = { key: newIdempotencyKey(), body: bodyText };
    let order: Order;
    try {
      order = await api<Order>('POST', '/api/orders', { body, headers: { 'idempotency-key': attempt.current.key }, timeoutMs: 45_000 });
    } catch (err) {
      setPhase('idle');
      const e = err instanceof ApiError ? err : new ApiError(0, messageOf(err));
      const outage = e.status === 0 || e.status === 408 || e.status >= 500;
      const stillRunning = e.status === 409 && e.retryAfterSeconds !== undefined;
      if (outage || stillRunning) {
        // The order may exist already: the same key again resumes it and never places a second one.
        setError({
          message: stillRunning
            ? 'Your order is still being placed. Please wait a moment, then press “Place order and pay” again.'
            : `${e.message} Pressing “Place order and pay” again is safe: you will not be charged twice.`,
        });
        return;
      }
      // A definitive answer: the service gives the same one to the same key, so the next press is a new request.
      attempt.current = null;
      if (e.status === 409) {
        // A price changed, a book is no longer sold or out of stock: the cart has to be reviewed.
        setError({ message: e.message, toCart: true });
        return;
      }
      if (e.status === 422 && Object.keys(e.fields).length > 0) setFieldErrors(e.fields);
      setError({ message: e.message });
      return;
    }

    setPhase('redirecting');
    const url = order.payment?.paymentUrl ?? (await waitForPaymentPage(order.id));
    if (url) {
      goToPayment(order.id, url);
      return;
    }
    // The payment page is still being opened: the order page waits for it.
    navigate(`/orders/${order.id}`, { replace: true });
  };

  const busy = phase !== 'idle';
  return (
    <section className="page">
      <h1>Checkout</h1>
      <form className="checkout" onSubmit={onSubmit} noValidate>
        <div className="checkout-main">
          <fieldset className="card">
            <legend>Delivery address</legend>
            {addresses.length > 0 && (
              <div className="choices">
                {addresses.map((a) => (
                  <label key={a.id} className="choice">
                    <input type="radio" name="address" value={a.id} checked={choice === a.id} onChange={() => setChoice(a.id)} />
                    <span>
                      {a.label && <strong>{a.label}: </strong>}
                      {oneLine(a)}
                    </span>
                  </label>
                ))}
                <label className="choice">
                  <input type="radio" name="address" value={NEW} checked={choice === NEW} onChange={() => setChoice(NEW)} />
                  <span>A new address</span>
                </label>
              </div>
            )}
            {!saved && (
              <>
                <AddressFields value={draft} onChange={setDraft} errors={fieldErrors} />
                <label className="checkbox">
                  <input type="checkbox" checked={save} onChange={(e) => setSave(e.target.checked)} /> Save this address for next time
                </label>
              </>
            )}
          </fieldset>

          <fieldset className="card">
            <legend>Shipping to {countryName(country)}</legend>
            {options.state.status === 'loading' && <Loading label="Loading shipping options…" />}
            {options.state.status === 'error' && <ErrorNotice message={options.state.error} onRetry={options.reload} />}
            {options.state.status === 'ok' && available.length === 0 && <p>We cannot ship to {countryName(country)} at the moment.</p>}
            {available.map((o) => (
              <label key={o.id} className="choice">
                <input type="radio" name="shipping" value={o.id} checked={selected?.id === o.id} onChange={() => setMethod(o.id)} />
                <span>
                  <strong>{o.name}</strong> — {o.price.amount === 0 ? 'free' : formatMoney(o.price)}{' '}
                  <span className="muted">
                    ({o.estimatedDays.min}–{o.estimatedDays.max} working days)
                  </span>
                </span>
              </label>
            ))}
          </fieldset>
        </div>

        <aside className="card checkout-summary" aria-labelledby="summary-heading">
          <h2 id="summary-heading">Order summary</h2>
          <ul className="summary-lines">
            {cart.items.map((i) => (
              <li key={i.productId}>
                <span>
                  {i.quantity} × {i.title}
                </span>
                <Price money={i.lineTotal} />
              </li>
            ))}
          </ul>
          <dl className="totals">
            <dt>Subtotal</dt>
            <dd>
              <Price money={cart.subtotal} />
            </dd>
            <dt>Shipping</dt>
            <dd>{selected ? <Price money={selected.price} /> : '—'}</dd>
            <dt>Total before VAT</dt>
            <dd className="grand-total">
              {selected ? <Price money={{ amount: cart.subtotal.amount + selected.price.amount, currency: cart.subtotal.currency }} /> : '—'}
            </dd>
          </dl>
          <p className="muted">VAT on books for {countryName(country)} is added to the total; you see the exact amount on the payment page before you pay.</p>
          {error && (
            <div ref={errorRef} tabIndex={-1}>
              <ErrorNotice message={error.message}>
                {error.toCart && (
                  <p>
                    <Link to="/cart">Review your cart</Link>
                  </p>
                )}
              </ErrorNotice>
            </div>
          )}
          {phase === 'redirecting' ? (
            <Loading label="Taking you to the secure payment page…" />
          ) : (
            <BusyButton type="submit" busy={busy} busyLabel={phase === 'checking' ? 'Checking the address…' : 'Placing your order…'} disabled={!selected}>
              Place order and pay
            </BusyButton>
          )}
          <p className="muted small">You pay on our payment partner's secure page. Folio never sees your card.</p>
        </aside>
      </form>
    </section>
  );
}

const stripSaved = (a: SavedAddress): Address => ({
  name: a.name,
  line1: a.line1,
  ...(a.line2 ? { line2: a.line2 } : {}),
  city: a.city,
  postalCode: a.postalCode,
  country: a.country,
});

/** Without an empty optional line: the address schema takes line2 only when there is one. */
const compact = (a: Address): Address => {
  const { line2, ...rest } = a;
  return line2?.trim() ? { ...rest, line2 } : rest;
};

function focusFirstError(errors: FieldErrors) {
  const order = ['name', 'line1', 'line2', 'postalCode', 'city', 'country'];
  const first = order.find((f) => errors[f]);
  if (first) document.getElementById(`address-${first}`)?.focus();
}
