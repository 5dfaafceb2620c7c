// DataLoader factories: one batched query per request for many ids, results in the order asked.
import DataLoader from 'dataloader';
import { inSpan } from '../telemetry/tracing.js';

/** A span per batch (when traced): the one query that answers many resolvers shows as one. */
export const tracedBatch = <K, T>(batch: (keys: readonly K[]) => Promise<T>) => (keys: readonly K[]) =>
  inSpan('dataloader.batch', { 'dataloader.batch_size': keys.length }, () => batch(keys));

/** Loads one row per id (null when missing) with a single `fetch` per batch. */
export function loaderById<T>(fetch: (ids: readonly string[]) => Promise<T[]>, idOf: (row: T) => string) {
  return new DataLoader<string, T | null>(
    tracedBatch(async (ids) => {
      const byId = new Map((await fetch(ids)).map((row) => [idOf(row), row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  );
}

/** Loads all rows belonging to each key (e.g. every item of an order) with a single `fetch` per batch. */
export function loaderGroupedBy<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (row: T) => string) {
  return new DataLoader<string, T[]>(
    tracedBatch(async (keys) => {
      const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
      for (const row of await fetch(keys)) groups.get(keyOf(row))?.push(row);
      return keys.map((k) => groups.get(k) ?? []);
    }),
  );
}
