import { Link } from 'react-router';
import { usePageTitle } from '../hooks.ts';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Browse the books</Link> or see <Link to="/orders">your orders</Link>.
      </p>
    </section>
  );
}
