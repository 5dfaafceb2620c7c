// Each client's cost budget over time (gateway/features/cost-budget.ts): the estimated cost of its
// operations is spent per window; past it TOO_MANY_REQUESTS with retryAfterSeconds and HTTP 429
// with Retry-After, and nothing is planned or sent to a subgraph. Two gateways share one budget
// through Redis; a client under its budget is never refused; the budget refills; administrators
// have a budget of their own; without Redis each gateway counts in its memory.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { CostBudgetConfig } from '../../lib/config.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { missing, skipped } from '../support/available.js';
import { subgraphCalls } from '../support/subgraph-calls.js';
import { bearer, gatewayConfig, send, startStack, TEST_REDIS_URL, userToken, type Stack } from '../support/harness.js';

/** categories 1 + 20 (its assumedSize) × id 1. */
const QUERY_COST = 21;
/** Four operations fit, the fifth does not. */
const BUDGET = 4 * QUERY_COST + 10;
const redisMissing = await missing('Redis');

describe('cost budgets', () => {
  let stack: Stack;
  const servers: RunningServer[] = [];
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const gateway = async (budget: Partial<CostBudgetConfig>) => {
    const server = await startGateway(
      gatewayConfig(stack.urls, {
        trustedProxies: ['loopback'],
        costBudget: { points: BUDGET, adminPoints: 10 * BUDGET, servicePoints: BUDGET, windowSeconds: 60, key: 'viewer', redis: undefined, ...budget },
        limits: { depth: 12, aliases: 30, rootFields: 20, directives: 50, tokens: 5_000, cost: QUERY_COST * 2 },
      }),
    );
    servers.push(server);
    return server;
  };
  const ask = (server: RunningServer, client: string, name: string, token?: string) =>
    send(server.url, { query: `query ${name} { categories { id } }` }, { headers: { 'x-forwarded-for': client, ...bearer(token) } });

  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await stack?.stop();
    if (!redisMissing) {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('never refuses a client under its budget, and refuses the next operation with 429 and Retry-After, calling no subgraph', async () => {
    const server = await gateway({});
    for (let i = 0; i < 4; i++) {
      const res = await ask(server, '203.0.113.10', 'UnderBudget');
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
    }
    expect((await subgraphCalls('UnderBudget')).catalog).toBe(4);
    const refused = await ask(server, '203.0.113.10', 'OverBudget');
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
    const retry = refused.errors![0]!.extensions!.retryAfterSeconds as number;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(refused.headers.get('retry-after')).toBe(String(retry));
    expect(refused.errors?.[0]?.message).toBe(`cost budget of ${BUDGET} per 60 s spent: this operation costs ${QUERY_COST}`);
    expect((await subgraphCalls('OverBudget')).catalog).toBe(0);
    // Another client's budget is its own.
    expect((await ask(server, '203.0.113.11', 'OtherClient')).status).toBe(200);
  });

  it("gives a logged-in customer a budget by user, whatever the address, and an administrator a budget of their own", async () => {
    const server = await gateway({});
    const customer = await userToken({ id: `budget-${randomBytes(4).toString('hex')}`, role: 'CUSTOMER' });
    for (let i = 0; i < 4; i++) expect((await ask(server, `198.51.100.${i}`, 'Customer', customer)).status).toBe(200);
    expect((await ask(server, '198.51.100.99', 'Customer', customer)).status).toBe(429);
    const admin = await userToken({ id: `admin-${randomBytes(4).toString('hex')}`, role: 'ADMIN' });
    for (let i = 0; i < 8; i++) expect((await ask(server, '198.51.100.1', 'Admin', admin)).status).toBe(200);
  });

  it('refills: the operation refused runs once the window has passed', async () => {
    const server = await gateway({ windowSeconds: 1 });
    for (let i = 0; i < 4; i++) expect((await ask(server, '203.0.113.20', 'Refill')).status).toBe(200);
    const refused = await ask(server, '203.0.113.20', 'Refill');
    expect(refused.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get('retry-after')) * 1000));
    expect((await ask(server, '203.0.113.20', 'Refill')).status).toBe(200);
  });

  it('counts in each gateway\'s memory without Redis: two gateways, two budgets', async () => {
    const [a, b] = [await gateway({}), await gateway({})];
    for (let i = 0; i < 4; i++) expect((await ask(a, '203.0.113.30', 'MemoryA')).status).toBe(200);
    expect((await ask(b, '203.0.113.30', 'MemoryB')).status).toBe(200);
    expect((await ask(a, '203.0.113.30', 'MemoryA')).status).toBe(429);
  });

  describe.skipIf(redisMissing !== undefined)(skipped('through Redis', redisMissing), () => {
    it('shares one budget between two gateways', async () => {
      const redis = { url: TEST_REDIS_URL, keyPrefix: prefix };
      const [a, b] = [await gateway({ redis }), await gateway({ redis })];
      for (let i = 0; i < 2; i++) expect((await ask(a, '203.0.113.40', 'SharedA')).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await ask(b, '203.0.113.40', 'SharedB')).status).toBe(200);
      const refusedA = await ask(a, '203.0.113.40', 'SharedA');
      const refusedB = await ask(b, '203.0.113.40', 'SharedB');
      expect([refusedA.status, refusedB.status]).toEqual([429, 429]);
      // Another address is under its own budget on both.
      expect((await ask(b, '203.0.113.41', 'SharedB')).status).toBe(200);
    });
  });
});
