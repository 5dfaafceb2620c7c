// Password guessing is throttled: failed logins per account and per client address, registrations
// per address, counted in the users database or in Redis, shared by replicas, and keyed by the
// address the gateway determined (believing X-Forwarded-For only from proxies it trusts).
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { LoginThrottleConfig, SubgraphConfig } from '../../lib/config.js';
import type { PrismaLike } from '../../lib/data/database.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import { DEMO_ACCOUNTS, GENERATED_CUSTOMER_PASSWORD } from '../../prisma/seed-data.js';
import type { UsersDb } from '../../subgraphs/users/db.js';
import { users } from '../../subgraphs/users/server.js';
import { missing, skipped } from '../support/available.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { createPostgresDatabases, send, gatewayConfig, operation, subgraphConfig, TEST_REDIS_URL, type Backend, type GraphQLResponse } from '../support/harness.js';

const LIMITS: LoginThrottleConfig = {
  failuresPerAccount: 3,
  failuresPerAddress: 6,
  failureWindowSeconds: 900,
  registrationsPerAddress: 3,
  registrationWindowSeconds: 3600,
};
const WRONG = 'not-the-password';
const customer = (n: number) => ({ email: `customer${n}@example.com`, password: GENERATED_CUSTOMER_PASSWORD });
const bob = DEMO_ACCOUNTS[2];


type Store = 'users database' | 'Redis';
// Each case with why it cannot run here (PostgreSQL or Redis unreachable): such a case is counted as skipped.
const [noPostgres, noRedis] = await Promise.all([missing('PostgreSQL'), missing('Redis')]);
const cases: [Backend, Store, string | undefined][] = [
  ['pglite', 'users database', undefined],
  ['postgres', 'users database', noPostgres],
  ['pglite', 'Redis', noRedis],
];

type Result = GraphQLResponse & { errors?: { extensions?: { code?: string; retryAfterSeconds?: number } }[] };

const post = async (url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Result> =>
  (await send(url, { query, variables }, { headers })) as Result;
/** What came back: OK, or the error's code. */
const outcome = (res: Result) => res.errors?.[0]?.extensions?.code ?? (res.data ? 'OK' : 'NO DATA');
const from = (address: string) => ({ 'x-forwarded-for': address });

/** How many statements on the User table the database ran while `during` ran. */
async function userTableStatements(db: PrismaLike, during: () => Promise<void>): Promise<number> {
  let count = 0;
  let recording = true;
  db.$on('query', (e) => {
    if (recording && e.query.includes('"User"')) count += 1;
  });
  try {
    await during();
  } finally {
    recording = false;
  }
  return count;
}

for (const [backend, store, skip] of cases) describe.skipIf(skip !== undefined)(skipped(`login throttle on ${backend}, counted in the ${store}`, skip), () => {
  /** Replicas share counts when they share the PostgreSQL database or Redis; two PGlites share nothing. */
  const shared = backend === 'postgres' || store === 'Redis';
  const redisPrefix = `test-${randomBytes(6).toString('hex')}:`;
  let drop: (() => Promise<void>) | undefined;
  let replicaA: RunningSubgraph<UsersDb>;
  let replicaB: RunningSubgraph<UsersDb> | undefined;
  /** Trusts no proxy (the default): the client's address is the peer's. Production, so errors are masked. */
  let gateway: RunningServer;
  /** Trusts loopback, as behind a proxy on the same machine: X-Forwarded-For names the client. */
  let behindProxy: RunningServer;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    const pg = backend === 'postgres' ? await createPostgresDatabases() : undefined;
    drop = pg?.drop;
    const config: Partial<SubgraphConfig> = {
      databaseUrl: pg?.urls.users,
      production: true,
      loginThrottle: LIMITS,
      redis: store === 'Redis' ? { url: TEST_REDIS_URL, keyPrefix: redisPrefix } : undefined,
    };
    replicaA = await startSubgraph(users, subgraphConfig('users', config));
    servers.push(replicaA);
    if (shared) servers.push((replicaB = await startSubgraph(users, subgraphConfig('users', config))));
    // Only users is asked by these operations; the others are never called.
    const urls = { users: replicaA.url, catalog: 'http://127.0.0.1:9/graphql', orders: 'http://127.0.0.1:9/graphql', reviews: 'http://127.0.0.1:9/graphql' };
    gateway = await startGateway(gatewayConfig(urls, { production: true }));
    behindProxy = await startGateway(gatewayConfig(urls, { trustedProxies: ['loopback'] }));
    servers.push(gateway, behindProxy);
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await drop?.();
    if (store === 'Redis') {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  const login = (url: string, account: { email: string; password: string }, headers: Record<string, string> = {}) =>
    post(url, operation('Login'), { email: account.email, password: account.password }, headers);
  const failLogins = async (url: string, emails: string[], headers: Record<string, string> = {}) => {
    const outcomes = [];
    for (const email of emails) outcomes.push(outcome(await login(url, { email, password: WRONG }, headers)));
    return outcomes;
  };
  const nobody = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `nobody-${tag}-${i}@example.com`);

  it('refuses even the right password once an account has used up its failures, saying when to retry', async () => {
    const account = customer(1);
    expect(await failLogins(behindProxy.url, [account.email, account.email.toUpperCase(), account.email], from('203.0.113.1'))).toEqual(
      Array(3).fill('UNAUTHENTICATED'),
    );
    for (const address of ['203.0.113.1', '203.0.113.2']) {
      const refused = await login(behindProxy.url, account, from(address));
      expect(refused.data?.login ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
      const retryAfter = refused.errors![0]!.extensions!.retryAfterSeconds!;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(LIMITS.failureWindowSeconds);
    }
  });

  it('lets other accounts log in from the same address until the address has used up its failures', async () => {
    const address = from('203.0.113.10');
    expect(await failLogins(behindProxy.url, nobody('a', 3), address)).toEqual(Array(3).fill('UNAUTHENTICATED'));
    expect(outcome(await login(behindProxy.url, customer(2), address))).toBe('OK');
    expect(await failLogins(behindProxy.url, nobody('b', 3), address)).toEqual(Array(3).fill('UNAUTHENTICATED'));
    expect(outcome(await login(behindProxy.url, customer(3), address))).toBe('TOO_MANY_REQUESTS');
    expect(outcome(await login(behindProxy.url, customer(3), from('203.0.113.11')))).toBe('OK');
  });

  it.skipIf(!shared)(skipped('shares the counts between two replicas of the users service', shared ? undefined : 'an embedded PGlite database is one process\'s own'), async () => {
    const account = customer(4);
    const address = from('203.0.113.20');
    const replicas = [replicaA, replicaB!, replicaA];
    for (const replica of replicas) expect(outcome(await login(replica.url, { ...account, password: WRONG }, address))).toBe('UNAUTHENTICATED');
    expect(outcome(await login(replicaB!.url, account, address))).toBe('TOO_MANY_REQUESTS');
    expect(outcome(await login(replicaA.url, account, address))).toBe('TOO_MANY_REQUESTS');
  });

  it('does not let a client escape the address limit with its own X-Forwarded-For (the gateway trusts no proxy)', async () => {
    const emails = nobody('spoof', LIMITS.failuresPerAddress);
    const outcomes = [];
    for (const [i, email] of emails.entries()) outcomes.push(outcome(await login(gateway.url, { email, password: WRONG }, from(`198.51.100.${i + 1}`))));
    expect(outcomes).toEqual(Array(LIMITS.failuresPerAddress).fill('UNAUTHENTICATED'));
    const refused = await login(gateway.url, customer(5), from('198.51.100.99'));
    // A production gateway passes the code and the retry time on unmasked.
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: expect.any(Number) });
  });

  it('believes X-Forwarded-For from a trusted proxy: each client address has its own budget', async () => {
    expect(await failLogins(behindProxy.url, nobody('proxied', LIMITS.failuresPerAddress), from('203.0.113.30'))).toEqual(
      Array(LIMITS.failuresPerAddress).fill('UNAUTHENTICATED'),
    );
    expect(outcome(await login(behindProxy.url, customer(6), from('203.0.113.30')))).toBe('TOO_MANY_REQUESTS');
    // What the client wrote before the trusted proxy's entry is not believed.
    expect(outcome(await login(behindProxy.url, customer(6), from('192.0.2.77, 203.0.113.30')))).toBe('TOO_MANY_REQUESTS');
    expect(outcome(await login(behindProxy.url, customer(6), from('203.0.113.31')))).toBe('OK');
  });

  it('counts IPv6 clients by their /64 network', async () => {
    const emails = nobody('v6', LIMITS.failuresPerAddress);
    const outcomes = [];
    for (const [i, email] of emails.entries()) outcomes.push(outcome(await login(behindProxy.url, { email, password: WRONG }, from(`2001:db8:a:b::${i + 1}`))));
    expect(outcomes).toEqual(Array(LIMITS.failuresPerAddress).fill('UNAUTHENTICATED'));
    expect(outcome(await login(behindProxy.url, bob, from('2001:db8:a:b:ffff:1:2:3')))).toBe('TOO_MANY_REQUESTS');
    expect(outcome(await login(behindProxy.url, bob, from('2001:db8:a:c::1')))).toBe('OK');
  });

  it('refuses a limited attempt before reading the account (so no password is hashed), and does not count it', async () => {
    const address = from('203.0.113.40');
    const account = customer(7);
    expect(await failLogins(behindProxy.url, Array(3).fill(account.email), address)).toEqual(Array(3).fill('UNAUTHENTICATED'));

    // Every login reads the account before it hashes; a refused one must not read it.
    const limited: string[] = [];
    const accountReads = await userTableStatements(replicaA.db.client, async () => {
      for (let i = 0; i < 5; i++) limited.push(outcome(await login(behindProxy.url, i % 2 ? account : { ...account, password: WRONG }, address)));
    });
    expect(limited).toEqual(Array(5).fill('TOO_MANY_REQUESTS'));
    expect(accountReads).toBe(0);

    // The address spent 3 of its 6 failures; had the 5 refused attempts counted, it would have none left.
    expect(await failLogins(behindProxy.url, nobody('after-limited', 2), address)).toEqual(Array(2).fill('UNAUTHENTICATED'));
    expect(outcome(await login(behindProxy.url, customer(8), address))).toBe('OK');
  });

  it('lets parallel guesses take no more than the account allows', async () => {
    const address = from('203.0.113.50');
    const email = 'nobody-parallel@example.com';
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => login(behindProxy.url, { email, password: WRONG }, address).then(outcome)));
    expect(outcomes.sort()).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // The two refused attempts were not guesses: the address has spent 3 of its 6 failures.
    expect(await failLogins(behindProxy.url, nobody('after-parallel', 2), address)).toEqual(Array(2).fill('UNAUTHENTICATED'));
    expect(outcome(await login(behindProxy.url, customer(8), address))).toBe('OK');
  });

  it('gives an account a fresh budget after its owner logs in', async () => {
    const address = from('203.0.113.60');
    const account = customer(9);
    const wrong = { ...account, password: WRONG };
    expect(await failLogins(behindProxy.url, [account.email, account.email], address)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(outcome(await login(behindProxy.url, account, address))).toBe('OK');
    // Without the reset the second of these would be the account's fourth failure.
    expect([outcome(await login(behindProxy.url, wrong, address)), outcome(await login(behindProxy.url, wrong, address))]).toEqual([
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
    ]);
    expect(outcome(await login(behindProxy.url, account, address))).toBe('OK');
  });

  it('limits registrations per address on their own budget, creating and hashing nothing once limited', async () => {
    const address = from('203.0.113.70');
    const register = (email: string, headers = address) =>
      post(behindProxy.url, operation('Register'), { input: { email, password: 'a-good-password', name: 'New Person' } }, headers);
    const tag = randomBytes(4).toString('hex');
    for (let i = 0; i < LIMITS.registrationsPerAddress; i++) expect(outcome(await register(`new-${tag}-${i}@example.com`))).toBe('OK');

    let refused: Result = {};
    const userQueries = await userTableStatements(replicaA.db.client, async () => {
      refused = await register(`refused-${tag}@example.com`);
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: expect.any(Number) });
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeLessThanOrEqual(LIMITS.registrationWindowSeconds);
    expect(userQueries).toBe(0);
    expect(await replicaA.db.client.user.findUnique({ where: { email: `refused-${tag}@example.com` } })).toBeNull();

    // Logging in from that address is a separate budget; registering from another address is too.
    expect(outcome(await login(behindProxy.url, customer(10), address))).toBe('OK');
    expect(outcome(await register(`other-${tag}@example.com`, from('203.0.113.71')))).toBe('OK');
  });
});

describe('login throttle without its store', () => {
  let replica: RunningSubgraph<UsersDb>;
  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails.
    replica = await startSubgraph(users, subgraphConfig('users', { loginThrottle: LIMITS, redis: { url: 'redis://127.0.0.1:1', keyPrefix: 'unused:' } }));
  });
  afterAll(() => replica?.close());

  it('refuses logins and registrations (SERVICE_UNAVAILABLE) rather than letting them through unthrottled', async () => {
    let login: Result = {};
    let register: Result = {};
    const userStatements = await userTableStatements(replica.db.client, async () => {
      login = await post(replica.url, operation('Login'), customer(1));
      register = await post(replica.url, operation('Register'), { input: { email: 'no-store@example.com', password: 'a-good-password', name: 'No Store' } });
    });
    expect([outcome(login), outcome(register)]).toEqual(['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
    expect(userStatements).toBe(0);
  });
});

describe.skipIf(noRedis !== undefined)(skipped("login throttle on a Redis that goes away and comes back", noRedis), () => {
  let replica: RunningSubgraph<UsersDb>;
  let proxy: TcpProxy;
  beforeAll(async () => {
    const redis = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    replica = await startSubgraph(users, subgraphConfig('users', { loginThrottle: LIMITS, redis: { url: proxy.via(TEST_REDIS_URL), keyPrefix: `test-throttle-${randomUUID()}:` } }));
  });
  afterAll(async () => {
    proxy?.restore();
    await replica?.close();
    await proxy?.close();
  });

  it('refuses logins within about a second while Redis is away (SERVICE_UNAVAILABLE, retryAfterSeconds), and lets them in again once it is back', async () => {
    expect(outcome(await post(replica.url, operation('Login'), customer(1)))).toBe('OK');
    proxy.cut();
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = Date.now();
      const refused = await post(replica.url, operation('Login'), customer(1));
      expect(Date.now() - started).toBeLessThan(2_500); // one command timeout (1 s) per counter read, read in parallel, and a margin
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 });
    }
    proxy.restore();
    await waitFor('a login to go through again', async () => outcome(await post(replica.url, operation('Login'), customer(1))) === 'OK', { timeoutMs: 10_000 });
  });
});
