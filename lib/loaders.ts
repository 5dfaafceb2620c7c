// DataLoader factories: one batched query per request for many ids, results in the order asked.
import DataLoader from 'dataloader';

/** Loads one row per id (null when missing) with a single `fetch` per batch. */
export function loaderById<T>(fetch: (ids: readonly string[]) => Promise<T[]>, idOf: (row: T) => string) {
  return new DataLoader<string, T | null>(async (ids) => {
    const byId = new Map((await fetch(ids)).map((row) => [idOf(row), row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Loads all rows belonging to each key (e.g. every item of an order) with a single `fetch` per batch. */
export function loaderGroupedBy<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (row: T) => string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const row of await fetch(keys)) groups.get(keyOf(row))?.push(row);
    return keys.map((k) => groups.get(k) ?? []);
  });
}
