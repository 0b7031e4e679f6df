/** The storefront's pages and the providers around them. */
import { BrowserRouter, Route, Routes, useLocation } from 'react-router';
import { CartProvider } from './cart.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { RequireAdmin, RequireAuth } from './components/guards.tsx';
import { Layout } from './components/Layout.tsx';
import { Notice } from './components/ui.tsx';
import { AdminOrdersPage } from './pages/AdminOrdersPage.tsx';
import { AdminStockPage } from './pages/AdminStockPage.tsx';
import { RegisterPage, SignInPage } from './pages/AuthPages.tsx';
import { BookPage } from './pages/BookPage.tsx';
import { CartPage } from './pages/CartPage.tsx';
import { CataloguePage } from './pages/CataloguePage.tsx';
import { CheckoutPage } from './pages/CheckoutPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { NotificationsPage } from './pages/NotificationsPage.tsx';
import { OrderPage } from './pages/OrderPage.tsx';
import { OrdersPage } from './pages/OrdersPage.tsx';
import { SessionProvider } from './session.tsx';

/** A one-off message handed over by the page before (e.g. "your guest cart was carried over"). */
function Flash() {
  const notice = (useLocation().state as { notice?: string } | null)?.notice;
  return notice ? <Notice kind="success">{notice}</Notice> : null;
}

function Pages() {
  const location = useLocation();
  return (
    <Layout>
      <Flash />
      <ErrorBoundary resetKey={location.pathname}>
        <Routes>
          <Route path="/" element={<CataloguePage />} />
          <Route path="/books/:id" element={<BookPage />} />
          <Route path="/cart" element={<CartPage />} />
          <Route path="/signin" element={<SignInPage />} />
          <Route path="/register" element={<RegisterPage />} />
          <Route
            path="/checkout"
            element={
              <RequireAuth>
                <CheckoutPage />
              </RequireAuth>
            }
          />
          <Route
            path="/orders"
            element={
              <RequireAuth>
                <OrdersPage />
              </RequireAuth>
            }
          />
          <Route
            path="/orders/:id"
            element={
              <RequireAuth>
                <OrderPage />
              </RequireAuth>
            }
          />
          <Route
            path="/notifications"
            element={
              <RequireAuth>
                <NotificationsPage />
              </RequireAuth>
            }
          />
          <Route
            path="/admin/stock"
            element={
              <RequireAdmin>
                <AdminStockPage />
              </RequireAdmin>
            }
          />
          <Route
            path="/admin/orders"
            element={
              <RequireAdmin>
                <AdminOrdersPage />
              </RequireAdmin>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </ErrorBoundary>
    </Layout>
  );
}

export function App() {
  return (
    <SessionProvider>
      <CartProvider>
        <BrowserRouter>
          <Pages />
        </BrowserRouter>
      </CartProvider>
    </SessionProvider>
  );
}
