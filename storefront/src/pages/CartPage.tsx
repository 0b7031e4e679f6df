/**
 * The cart: quantities, removing, and a clear notice when a price changed since the book was added
 * (checkout refuses such a cart until the reader accepts the new prices: nothing is silently charged).
 */
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { messageOf } from '../api.ts';
import { useCart } from '../cart.tsx';
import { signInPath } from '../components/guards.tsx';
import { BusyButton, ErrorNotice, Loading, Notice, Price } from '../components/ui.tsx';
import { formatMoney } from '../format.ts';
import { usePageTitle } from '../hooks.ts';
import { useSession } from '../session.tsx';
import type { CartItem } from '../types.ts';

export function CartPage() {
  usePageTitle('Your cart');
  const { cart, error, refresh, acceptPrices } = useCart();
  const { user } = useSession();
  const navigate = useNavigate();
  const [loaded, setLoaded] = useState(false);
  const [accepting, setAccepting] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  // Always read the cart afresh here: prices change, and a paid order empties it.
  useEffect(() => {
    let live = true;
    refresh().finally(() => live && setLoaded(true));
    return () => {
      live = false;
    };
  }, [refresh]);

  if (!loaded && !cart) return <Loading label="Loading your cart…" />;
  if (!cart)
    return (
      <section className="page">
        <h1>Your cart</h1>
        <ErrorNotice message={error ?? 'Your cart could not be loaded.'} onRetry={() => void refresh()} />
      </section>
    );

  const changed = cart.items.filter((i) => i.priceChanged);
  const gone = cart.items.filter((i) => !i.available);
  const blocked = changed.length > 0 || gone.length > 0;

  const onAccept = async () => {
    setAccepting(true);
    setActionError(null);
    try {
      await acceptPrices();
    } catch (err) {
      setActionError(messageOf(err));
    } finally {
      setAccepting(false);
    }
  };

  return (
    <section className="page">
      <h1>Your cart</h1>
      {error && <ErrorNotice message={`${error} What you see may be out of date.`} onRetry={() => void refresh()} />}
      {cart.items.length === 0 ? (
        <div className="empty">
          <p>Your cart is empty.</p>
          <p>
            <Link to="/" className="button">
              Browse books
            </Link>
          </p>
        </div>
      ) : (
        <>
          {changed.length > 0 && (
            <Notice kind="warning" title="Some prices have changed since you added these books">
              <ul>
                {changed.map((i) => (
                  <li key={i.productId}>
                    {i.title}: was {formatMoney(i.unitPrice)}, now {formatMoney(i.currentPrice)}
                  </li>
                ))}
              </ul>
              <p>Please check the new prices. You can only check out once you accept them.</p>
              <BusyButton busy={accepting} busyLabel="Accepting…" onClick={onAccept}>
                Accept the new prices
              </BusyButton>
            </Notice>
          )}
          {gone.length > 0 && (
            <Notice kind="warning" title="Some books can no longer be bought">
              <p>Please remove {gone.map((i) => `“${i.title}”`).join(', ')} to check out.</p>
            </Notice>
          )}
          {actionError && <ErrorNotice message={actionError} />}
          <ul className="cart-lines" aria-label="Books in your cart">
            {cart.items.map((item) => (
              <CartLine key={item.productId} item={item} />
            ))}
          </ul>
          <div className="cart-total card">
            <p>
              Subtotal ({cart.items.reduce((n, i) => n + i.quantity, 0)} {cart.items.length === 1 && cart.items[0]?.quantity === 1 ? 'book' : 'books'}):{' '}
              <strong>
                <Price money={cart.subtotal} />
              </strong>
            </p>
            <p className="muted">Shipping and VAT are added at checkout.</p>
            <button
              type="button"
              className="button"
              disabled={blocked}
              aria-describedby={blocked ? 'checkout-blocked' : undefined}
              onClick={() => navigate(user ? '/checkout' : signInPath('/checkout'), user ? undefined : { state: { reason: 'signin-required' } })}
            >
              {user ? 'Proceed to checkout' : 'Sign in to check out'}
            </button>
            {blocked && (
              <p id="checkout-blocked" className="muted">
                Resolve the notices above to check out.
              </p>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function CartLine({ item }: { item: CartItem }) {
  const { setQuantity, remove } = useCart();
  const [quantity, setDraft] = useState(String(item.quantity));
  const [busy, setBusy] = useState<'update' | 'remove' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = `qty-${item.productId}`;

  // The server's quantity wins after each change (e.g. capped at 99).
  useEffect(() => setDraft(String(item.quantity)), [item.quantity]);

  const onUpdate = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(quantity);
    if (!Number.isInteger(n) || n < 1 || n > 99) {
      setError('Choose a quantity from 1 to 99, or remove the book.');
      return;
    }
    setBusy('update');
    setError(null);
    try {
      await setQuantity(item.productId, n);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };
  const onRemove = async () => {
    setBusy('remove');
    setError(null);
    try {
      await remove(item.productId);
    } catch (err) {
      setError(messageOf(err));
      setBusy(null);
    }
  };

  return (
    <li className="cart-line">
      <div className="cart-line-title">
        <Link to={`/books/${item.productId}`}>{item.title}</Link>
        {!item.available && <span className="availability out">No longer sold</span>}
        <p className="muted">
          <Price money={item.unitPrice} /> each
          {item.priceChanged && (
            <span className="price-changed">
              {' '}
              — now <Price money={item.currentPrice} />
            </span>
          )}
        </p>
      </div>
      <form className="cart-line-qty" onSubmit={onUpdate}>
        <label htmlFor={id}>
          Quantity<span className="visually-hidden"> of {item.title}</span>
        </label>
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={1}
          max={99}
          value={quantity}
          onChange={(e) => setDraft(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        <BusyButton
          type="submit"
          className="button small secondary"
          busy={busy === 'update'}
          busyLabel="Updating…"
          disabled={quantity === String(item.quantity)}
        >
          Update
        </BusyButton>
      </form>
      <p className="cart-line-total">
        <Price money={item.lineTotal} />
      </p>
      <button type="button" className="link-button" onClick={onRemove} disabled={busy !== null} aria-label={`Remove ${item.title}`}>
        {busy === 'remove' ? 'Removing…' : 'Remove'}
      </button>
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
