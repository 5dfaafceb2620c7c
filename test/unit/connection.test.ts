import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cursorPart, decodeCursor, encodeCursor, pageSize, toConnection } from '../../lib/subgraph/connection.js';
import { newestFirstCursorShape } from '../../lib/subgraph/paged-query.js';
import { shippingEstimate } from '../../subgraphs/orders/shipping.js';

describe('cursors', () => {
  const id = '0b7c4d52-6a3e-4f0e-9d2b-3c1f5a8e7d61';
  const newest = newestFirstCursorShape;
  const byPrice = z.tuple([cursorPart.tag('PRICE'), cursorPart.int32, cursorPart.id]);
  const byName = z.tuple([cursorPart.tag('NAME'), cursorPart.text, cursorPart.id]);
  const b64 = (text: string) => Buffer.from(text).toString('base64url');

  it('round-trip the sort key of a row', () => {
    expect(decodeCursor(encodeCursor(['2026-03-01T12:00:00.000Z', id]), newest)).toEqual(['2026-03-01T12:00:00.000Z', id]);
    expect(decodeCursor(encodeCursor(['PRICE', 1999, id]), byPrice)).toEqual(['PRICE', 1999, id]);
    expect(decodeCursor(encodeCursor(['NAME', 'Oak Kettle 100%', id]), byName)).toEqual(['NAME', 'Oak Kettle 100%', id]);
  });

  it('accept the extremes of each range', () => {
    for (const time of ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) expect(decodeCursor(encodeCursor([time, id]), newest)[0]).toBe(time);
    for (const price of [-(2 ** 31), 0, 2 ** 31 - 1]) expect(decodeCursor(encodeCursor(['PRICE', price, id]), byPrice)[1]).toBe(price);
    expect(decodeCursor(encodeCursor(['NAME', 'x'.repeat(1000), id]), byName)[1]).toHaveLength(1000);
  });

  it.each([
    ['empty', ''],
    ['not base64 JSON', 'garbage'],
    ['not base64 at all', '!!!***'],
    ['a JSON object', b64('{"a":1}')],
    ['too few parts', encodeCursor(['2026-03-01T12:00:00.000Z'])],
    ['too many parts', encodeCursor(['2026-03-01T12:00:00.000Z', id, 'extra'])],
    ['a null part', b64(`[null,"${id}"]`)],
    ['a date that is no date', encodeCursor(['notadate', id])],
    ['the year -200000', encodeCursor(['-200000-01-01T00:00:00.000Z', id])],
    ['the year 275760', encodeCursor(['+275760-09-13T00:00:00.000Z', id])],
    ['a date before 1970', encodeCursor(['1969-12-31T23:59:59.999Z', id])],
    ['a date that does not exist', encodeCursor(['2026-02-30T00:00:00.000Z', id])],
    ['a date without time', encodeCursor(['2026-03-01', id])],
    ['a date as a number', encodeCursor([1772366400000, id])],
    ['an id that is not a UUID', encodeCursor(['2026-03-01T12:00:00.000Z', 'abc'])],
    ['an id with a NUL byte', encodeCursor(['2026-03-01T12:00:00.000Z', `${id}\u0000`])],
  ])('refuse %s (newest-first) with BAD_USER_INPUT naming after', (_label, cursor) => {
    expect(() => decodeCursor(cursor, newest)).toThrowError(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }) }));
  });

  it.each([
    ['a price of 2^31', byPrice, encodeCursor(['PRICE', 2 ** 31, id])],
    ['a price below -2^31', byPrice, encodeCursor(['PRICE', -(2 ** 31) - 1, id])],
    ['a fractional price', byPrice, encodeCursor(['PRICE', 19.99, id])],
    ['a price as a string', byPrice, encodeCursor(['PRICE', '1999', id])],
    ['a price of 1e400 (Infinity)', byPrice, b64(`["PRICE",1e400,"${id}"]`)],
    ['a cursor of another ordering', byPrice, encodeCursor(['NAME', 'Kettle', id])],
    ['a cursor without its ordering', byPrice, encodeCursor([1999, id])],
    ['a name with a NUL byte', byName, encodeCursor(['NAME', 'Ket\u0000tle', id])],
    ['a name of 1001 characters', byName, encodeCursor(['NAME', 'x'.repeat(1001), id])],
    ['a name with a lone surrogate', byName, encodeCursor(['NAME', 'Ket\ud800tle', id])],
    ['a name that is a number', byName, encodeCursor(['NAME', 42, id])],
  ])('refuse %s', (_label, shape, cursor) => {
    expect(() => decodeCursor(cursor, shape as typeof byPrice)).toThrowError(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }) }),
    );
  });

  it('bound the page size', () => {
    expect(pageSize(undefined, 20)).toBe(20);
    expect(pageSize(0, 20)).toBe(0);
    for (const bad of [-1, 101, 2.5]) expect(() => pageSize(bad, 20)).toThrow(/between 0 and 100/);
  });

  it('build a page from one row more than asked, counting only on demand', async () => {
    let counted = 0;
    const c = toConnection([{ id: 'a' }, { id: 'b' }, { id: 'c' }], 2, (r) => [r.id], async () => ++counted);
    expect(c.edges.map((e) => e.node.id)).toEqual(['a', 'b']);
    expect(c.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor(['b']) });
    expect(counted).toBe(0);
    expect(toConnection([], 5, () => [], 0).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});

describe('shipping estimate', () => {
  it('charges a base rate for the first 500 g and a step per further 500 g, free from 100.00', () => {
    expect(shippingEstimate({ amount: 999, currency: 'USD' }, 500)).toEqual({ amount: 499, currency: 'USD' });
    expect(shippingEstimate({ amount: 999, currency: 'USD' }, 501)).toEqual({ amount: 649, currency: 'USD' });
    expect(shippingEstimate({ amount: 999, currency: 'EUR' }, 2000)).toEqual({ amount: 949, currency: 'EUR' });
    expect(shippingEstimate({ amount: 10_000, currency: 'USD' }, 9000)).toEqual({ amount: 0, currency: 'USD' });
  });
});
