// The rows of a table whose key is one of many, in one statement through Prisma's raw SQL: what an
// entity lookup by id costs the most (every `_entities` fetch asks one), without the model query's
// compilation and result mapping, which cost several times the statement itself.
import type { RawQueryable } from './paged-query.js';

export interface RowsByKey {
  /** Table and columns are identifiers from code, never from input; columns as the Prisma model names its fields. */
  table: string;
  column: string;
  /** The DateTime columns: read as Date, as the model query would (PGlite's driver answers text). */
  dates: readonly string[];
}

/** A DataLoader batch function's fetch: the rows whose `column` is one of the keys, typed as the model's rows. */
export function rowsByKey<T>(db: RawQueryable, { table, column, dates }: RowsByKey): (keys: readonly string[]) => Promise<T[]> {
  return async (keys) => {
    if (keys.length === 0) return [];
    const placeholders = keys.map((_, i) => `$${i + 1}`).join(', ');
    const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM "${table}" WHERE "${column}" IN (${placeholders})`, ...keys);
    for (const row of rows) for (const date of dates) if (row[date] !== null && !(row[date] instanceof Date)) row[date] = new Date(row[date] as string);
    return rows as T[];
  };
}
