import { useEffect, useRef, useState } from 'preact/hooks';
import { Button } from './form.tsx';

// Lists the server hands out in cursor pages, for every screen: the page in
// force under one set of filters, loading and refused, walked forwards and
// back (the cursors walked so far kept on a stack), and the Previous / Next
// buttons that walk them.

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/**
 * Cursor pages of a list under one set of filters (`key`): the cursors walked
 * so far are kept on a stack, so Previous goes back; new filters start again.
 */
export function usePages<T>(key: string, load: (cursor: string | undefined) => Promise<Page<T>>) {
  const [walk, setWalk] = useState<{ key: string; cursors: readonly string[] }>({ key, cursors: [] });
  const cursors = walk.key === key ? walk.cursors : [];
  const cursor = cursors.at(-1);
  const [tick, setTick] = useState(0);
  // What was last loaded, and for which filters, cursor and reload: while the
  // page asked for is not that one, the list is loading — from the very render
  // that asked, so a summary never names the new page over the old rows.
  const wanted = JSON.stringify([key, cursor ?? null, tick]);
  const [result, setResult] = useState<{ readonly for: string; readonly page?: Page<T>; readonly error?: unknown } | undefined>(undefined);
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    let live = true;
    loader
      .current(cursor)
      .then((loaded) => {
        if (live) setResult({ for: wanted, page: loaded });
      })
      .catch((failure: unknown) => {
        if (live) setResult({ for: wanted, error: failure });
      });
    return () => {
      live = false;
    };
  }, [wanted]);

  const loading = result?.for !== wanted;
  const page = result?.page;
  const error = loading ? undefined : result.error;
  const next = page?.nextCursor ?? null;
  return {
    items: page?.items ?? [],
    loaded: page !== undefined,
    loading,
    error,
    pageNumber: cursors.length + 1,
    hasPrevious: cursors.length > 0,
    hasNext: next !== null,
    next: () => {
      if (next !== null) setWalk({ key, cursors: [...cursors, next] });
    },
    previous: () => setWalk({ key, cursors: cursors.slice(0, -1) }),
    reload: () => setTick((t) => t + 1),
    /** Puts a changed item in place without reloading (the server's answer to the change). */
    replace: (match: (item: T) => boolean, changed: T) => setResult((r) => (r?.page === undefined ? r : { ...r, page: { ...r.page, items: r.page.items.map((item) => (match(item) ? changed : item)) } })),
  };
}

export function Pager(props: { readonly pageNumber: number; readonly hasPrevious: boolean; readonly hasNext: boolean; readonly onPrevious: () => void; readonly onNext: () => void; readonly label: string }) {
  if (!props.hasPrevious && !props.hasNext) return null;
  return (
    <nav class="pager" aria-label={props.label}>
      <Button kind="secondary" disabled={!props.hasPrevious} onClick={props.onPrevious}>Previous</Button>
      <span>Page {props.pageNumber}</span>
      <Button kind="secondary" disabled={!props.hasNext} onClick={props.onNext}>Next</Button>
    </nav>
  );
}

/**
 * Every item of a list, walking its cursor pages (what a map or a picker needs
 * in full), stopping once `max` items are in; `more` says whether the list went on.
 */
export async function readAll<T>(load: (cursor: string | undefined) => Promise<Page<T>>, max = Number.POSITIVE_INFINITY): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await load(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  return { items, more: cursor !== undefined };
}
