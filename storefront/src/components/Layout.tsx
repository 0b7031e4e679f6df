/** The frame of every page: a skip link, the header with the navigation and the cart, and the footer. */
import { type ReactNode, useEffect, useRef } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { useCart } from '../cart.tsx';
import { useSession } from '../session.tsx';

export function Layout({ children }: { children: ReactNode }) {
  const { user, isAdmin, signOut } = useSession();
  const { count } = useCart();
  const location = useLocation();
  const navigate = useNavigate();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // A new page: move focus to it (screen readers announce it) and start at its top.
  const path = location.pathname;
  useEffect(() => {
    void path;
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [path]);

  // The sign-in and registration pages keep where the reader was going.
  const onAuthPage = path === '/signin' || path === '/register';
  const next = onAuthPage ? (new URLSearchParams(location.search).get('next') ?? '/') : location.pathname + location.search;

  const onSignOut = async () => {
    await signOut();
    navigate('/');
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="bar">
          <Link to="/" className="brand" aria-label="Folio, home">
            Folio
          </Link>
          <nav aria-label="Main">
            <ul>
              <li>
                <NavLink to="/" end>
                  Books
                </NavLink>
              </li>
              {user && (
                <>
                  <li>
                    <NavLink to="/orders">My orders</NavLink>
                  </li>
                  <li>
                    <NavLink to="/notifications">Notifications</NavLink>
                  </li>
                </>
              )}
              {isAdmin && (
                <>
                  <li>
                    <NavLink to="/admin/stock">Stock</NavLink>
                  </li>
                  <li>
                    <NavLink to="/admin/orders">All orders</NavLink>
                  </li>
                </>
              )}
              <li>
                <NavLink to="/cart" className="cart-link">
                  Cart <span className="badge">{count}</span>
                  <span className="visually-hidden"> {count === 1 ? 'item' : 'items'}</span>
                </NavLink>
              </li>
            </ul>
          </nav>
          <div className="account">
            {user ? (
              <>
                <span className="who">
                  Signed in as <strong>{user.name}</strong>
                </span>
                <button type="button" className="link-button" onClick={onSignOut}>
                  Sign out
                </button>
              </>
            ) : (
              <>
                <Link to={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link>
                <Link to={`/register?next=${encodeURIComponent(next)}`}>Register</Link>
              </>
            )}
          </div>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <p>Folio — books delivered across Europe and beyond. Prices are without VAT: the VAT on books for your country is added at checkout.</p>
      </footer>
    </>
  );
}
