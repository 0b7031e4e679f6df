/** Pages for signed-in readers (and admins): a signed-out reader is sent to sign in, and back afterwards. */
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../session.tsx';

export function signInPath(next: string): string {
  return `/signin?next=${encodeURIComponent(next)}`;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} replace state={{ reason: 'signin-required' }} />;
  return <>{children}</>;
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const { user, isAdmin } = useSession();
  const location = useLocation();
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} replace state={{ reason: 'signin-required' }} />;
  if (!isAdmin)
    return (
      <section className="page">
        <h1>Not available</h1>
        <p>This page is for the shop's staff. If you work here, sign in with your staff account.</p>
      </section>
    );
  return <>{children}</>;
}
