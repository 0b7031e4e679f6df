/** Sign-in and registration. Both return the reader to where they were going (?next=), guest cart included. */
import { type FormEvent, useState } from 'react';
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError, type FieldErrors, messageOf } from '../api.ts';
import { BusyButton, ErrorNotice, Notice } from '../components/ui.tsx';
import { usePageTitle } from '../hooks.ts';
import { useSession } from '../session.tsx';

/** Only a path of this shop: never another site (an open redirect). */
export function safeNext(raw: string | null): string {
  if (!raw?.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (raw.startsWith('/signin') || raw.startsWith('/register')) return '/';
  return raw;
}

const destinations: Array<[RegExp, string]> = [
  [/^\/checkout/, 'check out'],
  [/^\/orders\/./, 'see your order'],
  [/^\/orders/, 'see your orders'],
  [/^\/notifications/, 'see your notifications'],
  [/^\/admin/, 'manage the shop'],
];
const purposeOf = (next: string) => destinations.find(([re]) => re.test(next))?.[1];

function Field({
  id,
  label,
  type,
  value,
  onChange,
  error,
  autoComplete,
  hint,
}: {
  id: string;
  label: string;
  type: string;
  value: string;
  onChange: (v: string) => void;
  error: string | undefined;
  autoComplete: string;
  hint?: string;
}) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={id}
        type={type}
        required
        autoComplete={autoComplete}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
      />
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

function useAuthForm() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const required = (location.state as { reason?: string } | null)?.reason === 'signin-required' || next !== '/';
  const finish = (notice: string | null) => navigate(next, { replace: true, state: notice ? { notice } : null });
  return { next, required, finish };
}

export function SignInPage() {
  usePageTitle('Sign in');
  const { signIn, user } = useSession();
  const { next, required, finish } = useAuthForm();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const missing: FieldErrors = {};
    if (!email.trim()) missing.email = 'Please enter your email address.';
    if (!password) missing.password = 'Please enter your password.';
    setFields(missing);
    if (Object.keys(missing).length) return;
    setBusy(true);
    setError(null);
    try {
      finish(await signIn(email.trim(), password));
    } catch (err) {
      setError(messageOf(err));
      setFields(err instanceof ApiError ? err.fields : {});
      setBusy(false);
    }
  };

  const purpose = purposeOf(next);
  // Already signed in (another tab, or the back button): on to where the reader was going.
  if (user && !busy) return <Navigate to={next} replace />;
  return (
    <section className="page narrow">
      <h1>Sign in</h1>
      {required && <Notice kind="info">{purpose ? `Please sign in to ${purpose}.` : 'Please sign in to continue.'}</Notice>}
      <form onSubmit={onSubmit} noValidate className="card">
        {error && <ErrorNotice message={error} />}
        <Field id="email" label="Email" type="email" autoComplete="email" value={email} onChange={setEmail} error={fields.email} />
        <Field id="password" label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} error={fields.password} />
        <BusyButton type="submit" busy={busy} busyLabel="Signing in…">
          Sign in
        </BusyButton>
      </form>
      <p>
        New to Folio? <Link to={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>
      </p>
    </section>
  );
}

export function RegisterPage() {
  usePageTitle('Create an account');
  const { register } = useSession();
  const { next, finish } = useAuthForm();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const missing: FieldErrors = {};
    if (!name.trim()) missing.name = 'Please enter your name.';
    if (!email.trim()) missing.email = 'Please enter your email address.';
    if (password.length < 10) missing.password = 'Please choose a password of at least 10 characters.';
    setFields(missing);
    if (Object.keys(missing).length) return;
    setBusy(true);
    setError(null);
    try {
      finish(await register(name.trim(), email.trim(), password));
    } catch (err) {
      setError(messageOf(err));
      setFields(err instanceof ApiError ? err.fields : {});
      setBusy(false);
    }
  };

  return (
    <section className="page narrow">
      <h1>Create an account</h1>
      <form onSubmit={onSubmit} noValidate className="card">
        {error && <ErrorNotice message={error} />}
        <Field id="name" label="Your name" type="text" autoComplete="name" value={name} onChange={setName} error={fields.name} />
        <Field id="email" label="Email" type="email" autoComplete="email" value={email} onChange={setEmail} error={fields.email} />
        <Field
          id="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={setPassword}
          error={fields.password}
          hint="10 to 128 characters; not a common password."
        />
        <BusyButton type="submit" busy={busy} busyLabel="Creating your account…">
          Create account
        </BusyButton>
      </form>
      <p>
        Already have an account? <Link to={`/signin?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </section>
  );
}
