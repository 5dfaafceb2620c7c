// In-flight deduplication at the gateway (gateway/subgraph-client/dedup.ts): identical queries sent at
// the same moment cost a subgraph one call, two users never share an answer, and a mutation
// always runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { operation, startStack, type Stack } from '../support/harness.js';

const [, alice, bob] = DEMO_ACCOUNTS;

describe('identical subgraph queries in flight', () => {
  let stack: Stack;
  const logs: Record<string, unknown>[] = [];
  const callsTo = (service: string) => logs.filter((l) => l.service === service && l.msg === 'operation').length;

  beforeAll(async () => {
    stack = await startStack('pglite', { logs });
  });
  afterAll(() => stack?.stop());

  it('share subgraph calls (fewer calls than requests), and every client gets the whole answer', async () => {
    const before = callsTo('catalog');
    const answers = await Promise.all(Array.from({ length: 30 }, () => stack.request(operation('ProductList'), { first: 5 })));
    const calls = callsTo('catalog') - before;
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual(answers[0]!.data);
    }
    expect(answers[0]!.data!.products.edges).toHaveLength(5);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(30);
  });

  it('are never shared between two users: each sees their own orders and email', async () => {
    const [aliceToken, bobToken] = await Promise.all([stack.login(alice.email, alice.password), stack.login(bob.email, bob.password)]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const token = i % 2 ? bobToken : aliceToken;
        return stack.request(operation('Me'), {}, token).then((res) => ({ who: i % 2 ? bob.email : alice.email, res }));
      }),
    );
    for (const { who, res } of answers) {
      expect(res.errors).toBeUndefined();
      expect(res.data!.me.email).toBe(who);
    }
  });

  it('do not include mutations: two identical orders sent at once are two orders', async () => {
    const token = await stack.login(alice.email, alice.password);
    const product = (await stack.request('{ products(first: 1, filter: { inStock: true }) { edges { node { id } } } }')).data!.products.edges[0].node.id;
    const input = { items: [{ productId: product, quantity: 1 }] };
    const [first, second] = await Promise.all([0, 1].map(() => stack.request(operation('PlaceOrder'), { input }, token)));
    expect(first!.errors).toBeUndefined();
    expect(second!.errors).toBeUndefined();
    expect(first!.data!.placeOrder.id).not.toBe(second!.data!.placeOrder.id);
  });
});
