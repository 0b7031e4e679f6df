/** The building blocks every page uses for waiting, failing and telling the reader something. */
import type { ReactNode } from 'react';
import { formatMoney } from '../format.ts';
import type { Money } from '../types.ts';

/** Something is on its way: announced to screen readers, never alone for long (every call has a timeout). */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** A failure, as a sentence, with a way to try again. */
export function ErrorNotice({
  message,
  onRetry,
  retryLabel = 'Try again',
  children,
}: {
  message: string;
  onRetry?: () => void;
  retryLabel?: string;
  children?: ReactNode;
}) {
  return (
    <div className="notice notice-error" role="alert">
      <p>{message}</p>
      {children}
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          {retryLabel}
        </button>
      )}
    </div>
  );
}

export function Notice({
  kind = 'info',
  title,
  children,
  role,
}: {
  kind?: 'info' | 'success' | 'warning' | 'error';
  title?: string;
  children?: ReactNode;
  role?: 'status' | 'alert';
}) {
  return (
    <div className={`notice notice-${kind}`} role={role ?? (kind === 'error' || kind === 'warning' ? 'alert' : 'status')}>
      {title && <p className="notice-title">{title}</p>}
      {children}
    </div>
  );
}

export function Price({ money, className }: { money: Money; className?: string }) {
  return <span className={className ? `price ${className}` : 'price'}>{formatMoney(money)}</span>;
}

/** A button that shows it is busy and cannot be pressed twice meanwhile. */
export function BusyButton({
  busy,
  busyLabel,
  children,
  className = 'button',
  type = 'button',
  onClick,
  disabled,
  ...rest
}: {
  busy: boolean;
  busyLabel: string;
  children: ReactNode;
  className?: string;
  type?: 'button' | 'submit';
  onClick?: () => void;
  disabled?: boolean;
  'aria-describedby'?: string;
}) {
  return (
    <button type={type} className={className} onClick={onClick} disabled={disabled || busy} aria-busy={busy} {...rest}>
      {busy ? busyLabel : children}
    </button>
  );
}
