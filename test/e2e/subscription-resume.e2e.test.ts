// Live updates across a crash of the subgraph that serves them: the orders process behind a
// gateway is killed (SIGKILL) and restarted while orders are placed, and the clients' streams
// through the gateway stay open and receive every order once; a subscription resumed at the
// subgraph after an event id replays only what its viewer may see, and a bad or expired resume
// point is said.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { createPostgresDatabases, describeOnBackends, freePort, graphql, keyEnv, newProduct, operation, startServiceProcess, startStack, type Stack } from '../support/harness.js';
import { connectWs, subscribeSse, type Subscription, type WsConnection } from '../support/subscription-client.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

const [admin, alice, bob] = DEMO_ACCOUNTS;

interface OrderEvent {
  myOrderUpdates?: { id: string; status: string };
}

await describeOnBackends('subscription streams across an orders crash on %s', (backend) => {
  let stack: Stack;
  let child: ChildProcess | undefined;
  let dataDir: string;
  let ordersDb: Awaited<ReturnType<typeof createPostgresDatabases>> | undefined;
  let ordersEnv: Record<string, string>;
  let proxy: TcpProxy;
  let tokens: { admin: string; alice: string; bob: string };
  const connections: WsConnection[] = [];

  /** The orders subgraph as a process of its own, as in production; resolves once it serves. */
  const startOrders = async () => {
    child = (await startServiceProcess('subgraphs/orders/index.ts', ordersEnv)).child;
  };

  beforeAll(async () => {
    const port = await freePort();
    // The gateway reaches orders through a proxy the test can cut: it decides when the gateway may come back.
    proxy = await startTcpProxy({ host: '127.0.0.1', port });
    stack = await startStack(backend, { externalOrders: { url: proxy.via(`http://localhost:${port}/graphql`) } });
    dataDir = await mkdtemp(path.join(tmpdir(), 'orders-resume-'));
    ordersDb = backend === 'postgres' ? await createPostgresDatabases() : undefined;
    ordersEnv = {
      ...keyEnv('orders'),
      SEED: 'false',
      ORDERS_PORT: String(port),
      CATALOG_URL: stack.catalog.url,
      // Placements the kill cut off settle soon after the restart.
      RECOVERY_MIN_AGE_SECONDS: '1',
      RECOVERY_INTERVAL_MS: '500',
      ...(ordersDb ? { ORDERS_DATABASE_URL: ordersDb.urls.orders } : { DATA_DIR: dataDir }),
    };
    await startOrders();
    const [a, b, c] = await Promise.all([admin, alice, bob].map((u) => stack.login(u!.email, u!.password)));
    tokens = { admin: a!, alice: b!, bob: c! };
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.dispose()));
    child?.kill('SIGKILL');
    await stack?.stop();
    await proxy?.close();
    await ordersDb?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const connect = (token: string, url = stack.gatewayUrl) => {
    const c = connectWs(url, token);
    connections.push(c);
    return c;
  };

  /** Places one order with an idempotency key, sent again until it has an answer (orders may be down). */
  async function placeUntilAnswered(productId: string, token: string): Promise<{ id: string; status: string }> {
    const input = { items: [{ productId, quantity: 1 }], idempotencyKey: randomUUID() };
    for (;;) {
      const res = await stack.request(operation('PlaceOrder'), { input }, token).catch(() => undefined);
      const order = res?.data?.placeOrder as { id: string; status: string } | undefined;
      if (order) return order;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** myOrderUpdates has no first event: place orders until one shows on every stream. */
  async function untilListening(productId: string, streams: Subscription<OrderEvent>[]) {
    for (let attempt = 1; ; attempt++) {
      const order = await placeUntilAnswered(productId, tokens.alice);
      try {
        for (const s of streams) await s.next((e) => e.data?.myOrderUpdates?.id === order.id, 'a fence order', 2_000);
        return;
      } catch (err) {
        if (attempt === 15) throw err;
      }
    }
  }

  /** The start of the orders database's event history, as a resume point: the history's name and id 0. */
  async function historyStart(c: WsConnection): Promise<string> {
    const probe = c.subscribe<OrderEvent>('subscription { myOrderUpdates { id } }', {}, { lastEventId: null });
    const first = await probe.next((e) => e.extensions?.lastEventId !== undefined, 'where the stream starts');
    probe.stop();
    return `${String(first.extensions!.lastEventId).split('.')[0]}.0`;
  }

  const eventsOf = (s: Subscription<OrderEvent>, id: string) => s.events.filter((e) => e.data?.myOrderUpdates?.id === id);

  it("every order placed across a kill -9 of orders reaches an administrator's SSE stream and its owner's graphql-ws stream exactly once, and the streams stay open", async () => {
    const p = await newProduct(stack, { stock: 1_000, token: tokens.admin });
    const adminStream = subscribeSse<OrderEvent>(stack.gatewayUrl, operation('MyOrderUpdates'), {}, tokens.admin);
    const aliceStream = connect(tokens.alice).subscribe<OrderEvent>(operation('MyOrderUpdates'));
    const bobStream = connect(tokens.bob).subscribe<OrderEvent>(operation('MyOrderUpdates'));
    try {
      await untilListening(p.id, [adminStream, aliceStream]);
      const placed: { id: string; status: string; owner: 'alice' | 'bob' }[] = [];
      let shopping = true;
      const customer = async (owner: 'alice' | 'bob') => {
        while (shopping) placed.push({ ...(await placeUntilAnswered(p.id, tokens[owner])), owner });
      };
      const customers = [customer('alice'), customer('bob'), customer('alice')];
      await waitFor('orders placed before the kill', () => placed.length >= 6);
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child!.kill('SIGKILL');
      proxy.cut(); // the gateway stays away until the orders below are placed
      await exited;
      await startOrders();
      // Placed at orders itself while the gateway cannot subscribe again: only a replay brings these.
      const ordersUrl = `http://localhost:${ordersEnv.ORDERS_PORT}/graphql`;
      for (const owner of ['alice', 'bob'] as const) {
        const input = { items: [{ productId: p.id, quantity: 1 }] };
        const res = await graphql<{ placeOrder: { id: string; status: string } }>(ordersUrl, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }', { input }, tokens[owner]);
        expect(res.errors).toBeUndefined();
        placed.push({ ...res.data!.placeOrder, owner });
      }
      proxy.restore();
      const afterRestart = placed.length;
      await waitFor('orders placed through the gateway after the restart', () => placed.length >= afterRestart + 6);
      shopping = false;
      await Promise.all(customers);

      const confirmed = placed.filter((o) => o.status === 'CONFIRMED');
      expect(confirmed.length).toBeGreaterThan(12);
      await waitFor('every confirmed order on the administrator\'s stream', () => confirmed.every((o) => eventsOf(adminStream, o.id).length > 0));
      const ofAlice = confirmed.filter((o) => o.owner === 'alice');
      await waitFor("every order of alice's on her stream", () => ofAlice.every((o) => eventsOf(aliceStream, o.id).length > 0));
      const ofBob = confirmed.filter((o) => o.owner === 'bob');
      await waitFor("every order of bob's on his stream", () => ofBob.every((o) => eventsOf(bobStream, o.id).length > 0));
      // Once each, as the order is: CONFIRMED.
      for (const o of confirmed) expect(eventsOf(adminStream, o.id).map((e) => e.data!.myOrderUpdates!.status), `order ${o.id} on the admin stream`).toEqual(['CONFIRMED']);
      for (const o of ofAlice) expect(eventsOf(aliceStream, o.id).map((e) => e.data!.myOrderUpdates!.status), `order ${o.id} on alice's stream`).toEqual(['CONFIRMED']);
      for (const o of ofBob) expect(eventsOf(bobStream, o.id), `order ${o.id} on bob's stream`).toHaveLength(1);
      // Nobody received another customer's order, replayed or live.
      for (const o of ofBob) expect(eventsOf(aliceStream, o.id)).toEqual([]);
      for (const o of ofAlice) expect(eventsOf(bobStream, o.id)).toEqual([]);
      // The clients noticed nothing: no error, no end.
      for (const s of [adminStream, aliceStream, bobStream]) expect(s.events.filter((e) => e.errors)).toEqual([]);
      const stillOpen = await Promise.race([Promise.any([adminStream.ended, aliceStream.ended, bobStream.ended]).then(() => false), new Promise((r) => setTimeout(() => r(true), 200))]);
      expect(stillOpen).toBe(true);
    } finally {
      adminStream.stop();
      aliceStream.stop();
      bobStream.stop();
    }
  });

  it("a subscription resumed at the subgraph replays only the viewer's own orders, and nothing of an order it may not see", async () => {
    const p = await newProduct(stack, { stock: 100, token: tokens.admin });
    const ofAlice = await placeUntilAnswered(p.id, tokens.alice);
    const ofBob = await placeUntilAnswered(p.id, tokens.bob);
    // Straight to orders, as the gateway subscribes, from the start of the history.
    const bobAtOrders = connect(tokens.bob, `http://localhost:${ordersEnv.ORDERS_PORT}/graphql`);
    const start = await historyStart(bobAtOrders);
    const replay = bobAtOrders.subscribe<OrderEvent>('subscription { myOrderUpdates { id status } }', {}, { lastEventId: start });
    await replay.next((e) => e.data?.myOrderUpdates?.id === ofBob.id, "bob's own order, replayed");
    // Where it starts, first, before any order.
    expect(replay.events[0]!.data).toBeUndefined();
    expect(replay.events[0]!.extensions!.lastEventId).toMatch(/^\d+\.\d+$/);
    expect(replay.events.some((e) => e.data?.myOrderUpdates?.id === ofAlice.id)).toBe(false);
    // Every replayed event is one of his own orders, tagged with its outbox id.
    const ids = replay.events.filter((e) => e.data).map((e) => e.data!.myOrderUpdates!.id);
    const owners = await Promise.all(ids.map((id) => stack.request('query($id: ID!) { order(id: $id) { id } }', { id }, tokens.bob)));
    expect(owners.every((r) => r.data?.order)).toBe(true);
    for (const e of replay.events.filter((e) => e.data)) expect(e.extensions).toMatchObject({ eventIds: [expect.stringMatching(/^\d+$/)], lastEventId: expect.stringMatching(/^\d+\.\d+$/) });

    // Another customer's order, resumed from the start: refused, nothing replayed.
    const forged = bobAtOrders.subscribe<{ orderUpdated?: { id: string } }>('subscription($id: ID!) { orderUpdated(id: $id) { id status } }', { id: ofAlice.id }, { lastEventId: start });
    const refused = await forged.next((e) => e.errors !== undefined, 'the refusal');
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(forged.events.some((e) => e.data?.orderUpdated)).toBe(false);
    replay.stop();
    forged.stop();
  });

  it('a bad resume point is refused with BAD_USER_INPUT, and one the history no longer holds is said with EVENTS_MISSED', async () => {
    const atOrders = connect(tokens.alice, `http://localhost:${ordersEnv.ORDERS_PORT}/graphql`);
    const start = await historyStart(atOrders);
    const history = start.split('.')[0]!;
    for (const lastEventId of ['abc', '-1', 5, '12', `${history}.-1`, `${history}.${'1'.repeat(19)}`, {}]) {
      const sub = atOrders.subscribe<OrderEvent>('subscription { myOrderUpdates { id } }', {}, { lastEventId });
      const ended = await sub.ended;
      expect((ended.error as { message?: string }[])[0]!.message, JSON.stringify(lastEventId)).toMatch(/lastEventId/);
    }
    // Another database's history (made again since): events may be missing.
    const other = atOrders.subscribe<OrderEvent>('subscription { myOrderUpdates { id } }', {}, { lastEventId: `${Number(history) + 1}.1` });
    expect((await other.next((e) => e.errors !== undefined, 'the warning')).errors![0]!.extensions!.code).toBe('EVENTS_MISSED');
    other.stop();
    // Beyond the newest event (a forged id): events may be missing.
    const ahead = atOrders.subscribe<OrderEvent>('subscription { myOrderUpdates { id } }', {}, { lastEventId: `${history}.999999999999` });
    const missed = await ahead.next((e) => e.errors !== undefined, 'the warning');
    expect(missed.errors![0]!.extensions!.code).toBe('EVENTS_MISSED');
    ahead.stop();
    // One order resumed so: the warning, then its current state, as a new subscriber gets it.
    const p = await newProduct(stack, { stock: 10, token: tokens.admin });
    const order = await placeUntilAnswered(p.id, tokens.alice);
    const one = atOrders.subscribe<{ orderUpdated?: { id: string; status: string } }>('subscription($id: ID!) { orderUpdated(id: $id) { id status } }', { id: order.id }, { lastEventId: `${history}.999999999999` });
    await one.next((e) => e.data?.orderUpdated?.status === 'CONFIRMED', 'the current state');
    expect(one.events.filter((e) => e.errors).map((e) => e.errors![0]!.extensions!.code)).toEqual(['EVENTS_MISSED']);
    one.stop();
    // Older than the retention: the sweep has removed the events after it.
    await placeUntilAnswered(p.id, tokens.alice);
    // PGlite's database belongs to the orders process; on PostgreSQL the test reaches it.
    if (ordersDb) {
      const db = new pg.Client({ connectionString: ordersDb.urls.orders });
      await db.connect();
      // What the sweep does ten minutes later: the oldest events are gone.
      await db.query('DELETE FROM "OutboxEvent" WHERE id < (SELECT max(id) FROM "OutboxEvent")');
      await db.end();
      const old = atOrders.subscribe<OrderEvent>('subscription { myOrderUpdates { id } }', {}, { lastEventId: `${history}.1` });
      const warned = await old.next((e) => e.errors !== undefined, 'the warning');
      expect(warned.errors![0]!.extensions!.code).toBe('EVENTS_MISSED');
      old.stop();
    }
  });
});
