import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../lib/connection.js';
import { shippingEstimate } from '../subgraphs/orders/shipping.js';

describe('cursors', () => {
  it('round-trip the sort key of a row', () => {
    expect(decodeCursor(encodeCursor([1999, 'abc']), 2)).toEqual([1999, 'abc']);
  });

  it.each(['', 'garbage', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[null,"x"]').toString('base64url')])(
    'refuse %j with BAD_USER_INPUT',
    (cursor) => {
      expect(() => decodeCursor(cursor, 2)).toThrowError(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }) }));
    },
  );

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
