import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import './styles.css';

// Back from the payment gateway's page, a browser may restore this page as it was left ("Taking you to
// the payment page…"): load it afresh instead, so the order's page shows the order's state now.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) window.location.reload();
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary>
        <App />
      </ErrorBoundary>
    </StrictMode>,
  );
}
