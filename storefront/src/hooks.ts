/** Small hooks the pages share: loading data with a loading and an error state, and the page title. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, messageOf } from './api.ts';
import type { Page } from './types.ts';

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

export interface CursorPages<T> {
  /** The first page, loaded with the page (its loading and error states are the page's). */
  first: LoadHandle<Page<T>>;
  /** Every item shown so far: the first page, then the older ones asked for. */
  items: T[];
  /** Whether there are older items to ask for. */
  hasMore: boolean;
  /** Asks for the next older page; its failure is `moreError`, with the items shown so far kept. */
  loadMore(): Promise<void>;
  loadingMore: boolean;
  moreError: string | null;
}

/** A newest-first listing paged by `nextCursor` (GET `path`?limit&cursor): the first page at once, older ones on demand. */
export function useCursorPages<T>(path: string, pageSize: number): CursorPages<T> {
  const first = useLoad((signal) => api<Page<T>>('GET', path, { signal, query: { limit: pageSize } }), path);
  const [more, setMore] = useState<{ items: T[]; cursor: string | null | undefined; busy: boolean; error: string | null } | null>(null);
  const firstPage = first.state.status === 'ok' ? first.state.data : undefined;
  const cursor = more ? more.cursor : firstPage?.nextCursor;

  const loadMore = async () => {
    if (!cursor) return;
    setMore((m) => ({ items: m?.items ?? [], cursor, busy: true, error: null }));
    try {
      const page = await api<Page<T>>('GET', path, { query: { limit: pageSize, cursor } });
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.nextCursor, busy: false, error: null }));
    } catch (err) {
      setMore((m) => ({ items: m?.items ?? [], cursor, busy: false, error: messageOf(err) }));
    }
  };

  return {
    first,
    items: [...(firstPage?.items ?? []), ...(more?.items ?? [])],
    hasMore: Boolean(cursor),
    loadMore,
    loadingMore: more?.busy ?? false,
    moreError: more?.error ?? null,
  };
}
