// One SQL statement for the first page of many parents' child lists ("the 10 newest reviews of
// each of these 50 products"), so a list field under a list costs one query, not one per parent.
import DataLoader from 'dataloader';
import { z } from 'zod';
import { cursorPart, type CursorValue } from './connection.js';
import { tracedBatch } from './loaders.js';

export interface RawQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface PerParentPage {
  /** Table and columns are identifiers from code, never from input. */
  table: string;
  parentColumn: string;
  parentIds: readonly string[];
  /** Rows per parent (callers ask for one more than the page size to learn `hasNextPage`). */
  limit: number;
  /** Continue after this (createdAt ISO string, id) key; the order is newest first. */
  after: CursorValue[] | null;
}

/** Rows ordered by ("createdAt", id) descending within each parent, at most `limit` per parent. */
export async function newestPerParent<T>(db: RawQueryable, q: PerParentPage): Promise<T[]> {
  if (q.parentIds.length === 0 || q.limit === 0) return [];
  const values: unknown[] = [...q.parentIds];
  const placeholders = q.parentIds.map((_, i) => `$${i + 1}`).join(', ');
  let afterClause = '';
  if (q.after) {
    values.push(new Date(String(q.after[0])), String(q.after[1]));
    afterClause = `AND ("createdAt", "id") < ($${values.length - 1}::timestamp(3), $${values.length})`;
  }
  values.push(q.limit);
  const sql = `
    SELECT * FROM (
      SELECT t.*, row_number() OVER (PARTITION BY t."${q.parentColumn}" ORDER BY t."createdAt" DESC, t."id" DESC) AS "rowNumber"
      FROM "${q.table}" t
      WHERE t."${q.parentColumn}" IN (${placeholders}) ${afterClause}
    ) ranked
    WHERE "rowNumber" <= $${values.length}
    ORDER BY "${q.parentColumn}", "rowNumber"`;
  const rows = await db.$queryRawUnsafe<(T & { rowNumber: unknown; createdAt: unknown })[]>(sql, ...values);
  return rows.map(({ rowNumber: _, ...row }) => ({ ...row, createdAt: new Date(row.createdAt as string) }) as unknown as T);
}

export const newestFirstCursor = (row: { createdAt: Date; id: string }): CursorValue[] => [row.createdAt.toISOString(), row.id];
/** What `newestFirstCursor` makes, for `decodeCursor`. */
export const newestFirstCursorShape = z.tuple([cursorPart.timestamp, cursorPart.id]);

export interface PageKey {
  parentId: string;
  limit: number;
  after: CursorValue[] | null;
}

/**
 * A request-scoped loader of per-parent pages. Keys asking for the same page size and cursor
 * (normally the whole batch) are served by one `newestPerParent` query.
 */
export function pageLoader<T extends { createdAt: Date; id: string }>(db: RawQueryable, table: string, parentColumn: keyof T & string) {
  return new DataLoader<PageKey, T[], string>(
    tracedBatch(async (keys) => {
      const groups = new Map<string, PageKey[]>();
      for (const key of keys) {
        const group = JSON.stringify([key.limit, key.after]);
        groups.set(group, [...(groups.get(group) ?? []), key]);
      }
      const rowsByKey = new Map<PageKey, T[]>();
      for (const group of groups.values()) {
        const { limit, after } = group[0]!;
        const rows = await newestPerParent<T>(db, { table, parentColumn, parentIds: group.map((k) => k.parentId), limit, after });
        for (const key of group) rowsByKey.set(key, rows.filter((r) => r[parentColumn] === key.parentId));
      }
      return keys.map((k) => rowsByKey.get(k) ?? []);
    }),
    { cacheKeyFn: (k) => JSON.stringify([k.parentId, k.limit, k.after]) },
  );
}
