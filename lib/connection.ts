// Relay-style cursor connections over keyset pagination: a cursor is the opaque encoding of the
// sort key of the last row seen, so pages stay stable while rows are added.
import { badUserInput } from './errors.js';

export const MAX_PAGE_SIZE = 100;

export type CursorValue = string | number;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor` with `arity` values; anything else is a client error. */
export function decodeCursor(cursor: string, arity: number): CursorValue[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === arity && values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return values as CursorValue[];
    }
  } catch {
    // fall through to the error below
  }
  throw badUserInput('invalid cursor: pass an endCursor or edge cursor from an earlier page', 'after');
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
