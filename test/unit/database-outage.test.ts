// Which database errors mean "the database cannot be reached" (answered SERVICE_UNAVAILABLE,
// lib/data/outage.ts) and which are the statement's own fault, on real errors of a real database.
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/data/database.js';
import { isDatabaseUnavailable } from '../../lib/data/outage.js';
import { createLogger } from '../../lib/logger.js';
import { createClient } from '../../subgraphs/orders/db.js';

const logger = createLogger('orders', 'silent');
const failure = (run: () => Promise<unknown>) => run().then(() => new Error('it succeeded'), (err: unknown) => err);

describe('a database outage', () => {
  it('is told apart from a statement the database refused', async () => {
    const db = await openDatabase({ name: 'orders', logger }, createClient);
    const order = { userId: 'u', status: 'PENDING' as const, totalAmount: 0, currency: 'USD', idempotencyKey: 'k' };
    await db.client.order.create({ data: order });
    expect(isDatabaseUnavailable(await failure(() => db.client.order.create({ data: order })))).toBe(false); // a unique violation
    expect(isDatabaseUnavailable(await failure(() => db.client.$executeRawUnsafe('SELECT 1/0')))).toBe(false);
    await db.close();
    expect(isDatabaseUnavailable(await failure(() => db.client.order.count()))).toBe(true); // PGlite closed
  });

  it('is recognised from PostgreSQL connection failures and SQLSTATEs', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable({ code: 'P1001', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } })).toBe(true);
    expect(isDatabaseUnavailable({ code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '57P01' } } } })).toBe(true);
    expect(isDatabaseUnavailable({ cause: { code: '57P03' } })).toBe(true);
    expect(isDatabaseUnavailable({ code: 'P2002' })).toBe(false);
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
