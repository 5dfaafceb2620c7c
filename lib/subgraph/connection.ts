// Relay-style cursor connections over keyset pagination: a cursor is the opaque encoding of the
// sort key of the last row seen, so pages stay stable while rows are added.
import { z } from 'zod';
import { badUserInput } from '../errors.js';
import { isUuid, textProblem } from '../security/input-guard.js';

export const MAX_PAGE_SIZE = 100;

export type CursorValue = string | number;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

// Cursors are made by `encodeCursor` from rows, so a well-formed one holds exactly what rows
// hold; anything else was forged or corrupted and must not reach a query.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The parts a cursor is made of; a connection describes its cursor as a tuple of them. */
export const cursorPart = {
  /** A row id: every id in this system is a UUID. */
  id: z.string().refine(isUuid),
  /** A timestamp exactly as `toISOString` writes it, between 1970 and 9999 (PostgreSQL and JS agree there). */
  timestamp: z.string().refine((s) => {
    const time = ISO_TIMESTAMP.test(s) ? Date.parse(s) : NaN;
    return time >= EARLIEST && time <= LATEST && new Date(time).toISOString() === s;
  }),
  /** A value of an integer (int4) column. */
  int32: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1),
  /** A value of a bounded text column (e.g. a name). */
  text: z.string().refine((s) => textProblem(s, 'cursor', 1_000) === null),
  /** Names what the cursor was made for (e.g. an ordering), so it is refused elsewhere. */
  tag: <T extends string>(tag: T) => z.literal(tag),
};

/**
 * Decodes a cursor made by `encodeCursor` and checks every part against `shape` (types and
 * ranges); anything else is BAD_USER_INPUT naming `field`.
 */
export function decodeCursor<T extends z.ZodTuple>(cursor: string, shape: T, field = 'after'): z.output<T> {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const parsed = shape.safeParse(values);
  if (parsed.success) return parsed.data;
  throw badUserInput('invalid cursor: pass an endCursor or edge cursor from an earlier page of the same query', field);
}

export function pageSize(first: number | null | undefined, fallback: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return size;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number | (() => Promise<number>);
}

/**
 * Builds a connection from up to `first + 1` rows (the extra row only tells whether a next page
 * exists). `totalCount` may be a function, so it is only counted when a client asks for it.
 */
export function toConnection<T>(
  rows: T[],
  first: number,
  cursorOf: (row: T) => CursorValue[],
  totalCount: Connection<T>['totalCount'],
): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}
