/** Small hooks the pages share: loading data with a loading and an error state, and the page title. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from './api.ts';

export type Loaded<T> = { status: 'loading' } | { status: 'error'; error: string; httpStatus: number | undefined } | { status: 'ok'; data: T };

export interface LoadHandle<T> {
  state: Loaded<T>;
  /** Load again (the Retry buttons). */
  reload(): void;
  /** Replace the data after a change the page made itself. */
  set(data: T): void;
}

/**
 * Runs `loader` when `key` changes (a string naming its inputs) and on reload(). The call behind it has a
 * timeout (api.ts), so the state always ends in ok or error; leaving the page aborts it.
 */
export function useLoad<T>(loader: (signal: AbortSignal) => Promise<T>, key: string): LoadHandle<T> {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [round, setRound] = useState(0);
  const loaderRef = useRef(loader);
  loaderRef.current = loader;

  useEffect(() => {
    void key;
    void round;
    const controller = new AbortController();
    setState({ status: 'loading' });
    loaderRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setState({ status: 'error', error: messageOf(err), httpStatus: (err as { status?: number }).status });
      },
    );
    return () => controller.abort();
  }, [key, round]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  const set = useCallback((data: T) => setState({ status: 'ok', data }), []);
  return { state, reload, set };
}

/** The document title of a page: "<title> — Folio". */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} — Folio` : 'Folio — books';
  }, [title]);
}
