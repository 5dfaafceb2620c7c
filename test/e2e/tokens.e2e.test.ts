// Who can mint which token: every service (the gateway too) refuses a token signed with the wrong
// key, an old HS256 token, an unsigned one; user tokens survive a key rotation while the previous
// key is configured, and no longer once it is removed. Token checks read no database, so these run
// on the embedded one only.
import { randomUUID } from 'node:crypto';
import { base64url, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { Tokens } from '../../lib/security/auth.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { developmentKey, generateSigningKey, resolveTokenKeys, type Issuer, type SigningKey } from '../../lib/security/keys.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import { DEMO_ACCOUNTS, seedId } from '../../prisma/seed-data.js';
import type { UsersDb } from '../../subgraphs/users/db.js';
import { users } from '../../subgraphs/users/server.js';
import { gatewayConfig, graphql, serviceToken, startStack, subgraphConfig, TEST_KEYS, testTokenKeys, userToken, type Stack } from '../support/harness.js';

const [admin, alice] = DEMO_ACCOUNTS;
const aliceId = seedId('user', alice.email);
const adminId = seedId('user', admin.email);

/** Signs as the given issuer would, but with any key: what an attacker holding that key could do. */
const signedWith = (issuer: Issuer, key: SigningKey) => new Tokens({ [issuer]: { signing: key, verifying: [] } });

/** An unsigned token with a header and claims of the attacker's choosing. */
function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => base64url.encode(JSON.stringify(o));
  return `${part(header)}.${part({ iat: now, exp: now + 3600, ...claims })}.`;
}
const ADMIN_CLAIMS = { sub: adminId, role: 'ADMIN', iss: 'commerce-supergraph/users', aud: 'commerce-supergraph' };
/** The shared secret every service used to accept (committed in earlier versions). */
const OLD_DEVELOPMENT_SECRET = new TextEncoder().encode('development-only-secret-change-me-in-production');

describe('token keys across the services', () => {
  let stack: Stack;
  let endpoints: Record<'gateway' | 'users' | 'catalog' | 'orders' | 'reviews', string>;
  beforeAll(async () => {
    stack = await startStack('pglite');
    endpoints = { gateway: stack.gatewayUrl, ...stack.urls };
  });
  afterAll(() => stack?.stop());

  const releaseStock = 'mutation($id: ID!) { releaseStock(orderId: $id) { orderId status } }';
  const reservations = () => stack.catalog.db.client.stockReservation.count();

  it('accepts the tokens the users and orders services sign', async () => {
    const token = await stack.login(alice.email, alice.password);
    for (const [service, url] of Object.entries(endpoints)) {
      const res = await graphql(url, '{ __typename }', {}, token);
      expect(res.errors, service).toBeUndefined();
    }
    expect((await stack.request('{ me { id } }', {}, token)).data!.me).toEqual({ id: aliceId });
    const orderId = randomUUID();
    const released = await graphql(stack.catalog.url, releaseStock, { id: orderId }, await serviceToken());
    expect(released.data!.releaseStock).toEqual({ orderId, status: 'RELEASED' });
  });

  const forgeries: [string, () => Promise<string> | string][] = [
    ['an admin token signed with the orders key', () => signedWith('users', TEST_KEYS.orders).sign({ id: adminId, role: 'ADMIN' })],
    ['an admin token signed with the committed development key', () => signedWith('users', developmentKey('users')).sign({ id: adminId, role: 'ADMIN' })],
    ['an admin token signed with an unknown key under the real key id', () =>
      new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'EdDSA', kid: TEST_KEYS.users.kid }).setSubject(adminId)
        .setIssuer(ADMIN_CLAIMS.iss).setAudience(ADMIN_CLAIMS.aud).setIssuedAt().setExpirationTime('1h').sign(generateSigningKey().privateKey)],
    ['an HS256 admin token with the old development secret', () =>
      new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS256' }).setSubject(adminId)
        .setIssuer(ADMIN_CLAIMS.iss).setAudience(ADMIN_CLAIMS.aud).setIssuedAt().setExpirationTime('1h').sign(OLD_DEVELOPMENT_SECRET)],
    ['an HS256 admin token keyed with the public key under its key id', () =>
      new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS256', kid: TEST_KEYS.users.kid }).setSubject(adminId)
        .setIssuer(ADMIN_CLAIMS.iss).setAudience(ADMIN_CLAIMS.aud).setIssuedAt().setExpirationTime('1h')
        .sign(TEST_KEYS.users.publicKey.export({ format: 'der', type: 'spki' }))],
    ['an unsigned (alg none) admin token', () => unsigned({ alg: 'none', kid: TEST_KEYS.users.kid }, ADMIN_CLAIMS)],
    ['an admin token with a signature cut off', async () => (await userToken({ id: adminId, role: 'ADMIN' })).replace(/\.[^.]+$/, '.')],
    ['a service token signed with the users key', () => signedWith('orders', TEST_KEYS.users).signService('orders')],
    ['a service token signed with the committed development key', () => signedWith('orders', developmentKey('orders')).signService('orders')],
    ['a user token passed off as a service (role SERVICE) by the users key', () =>
      new SignJWT({ role: 'SERVICE' }).setProtectedHeader({ alg: 'EdDSA', kid: TEST_KEYS.users.kid }).setSubject('orders')
        .setIssuer(ADMIN_CLAIMS.iss).setAudience(ADMIN_CLAIMS.aud).setIssuedAt().setExpirationTime('1h').sign(TEST_KEYS.users.privateKey)],
    ['an admin token signed by the orders key with the users claims', () =>
      new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'EdDSA', kid: TEST_KEYS.orders.kid }).setSubject(adminId)
        .setIssuer(ADMIN_CLAIMS.iss).setAudience(ADMIN_CLAIMS.aud).setIssuedAt().setExpirationTime('1h').sign(TEST_KEYS.orders.privateKey)],
    ['a service token claiming to be reviews, signed with the orders key', () =>
      new SignJWT({ role: 'SERVICE' }).setProtectedHeader({ alg: 'EdDSA', kid: TEST_KEYS.orders.kid }).setSubject('reviews')
        .setIssuer('commerce-supergraph/orders').setAudience('commerce-supergraph/catalog').setIssuedAt().setExpirationTime('5m').sign(TEST_KEYS.orders.privateKey)],
  ];

  it.each(forgeries)('refuses %s everywhere with UNAUTHENTICATED, and changes nothing', async (_label, forge) => {
    const token = await forge();
    const [productsBefore, reservationsBefore] = [await stack.catalog.db.client.product.count(), await reservations()];
    for (const [service, url] of Object.entries(endpoints)) {
      const res = await graphql(url, '{ __typename }', {}, token);
      expect([service, res.status, res.errors?.[0]?.extensions?.code]).toEqual([service, 401, 'UNAUTHENTICATED']);
    }
    const create = await stack.request(
      'mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      { input: { sku: 'FORGED-1', name: 'Forged', price: 1, stock: 1, weightGrams: 1, categoryId: seedId('category', 'kitchen') } },
      token,
    );
    expect(create.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await graphql(stack.catalog.url, releaseStock, { id: randomUUID() }, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect([await stack.catalog.db.client.product.count(), await reservations()]).toEqual([productsBefore, reservationsBefore]);
  });

  it('accepts the orders service token only on catalog, the one service that holds its public key', async () => {
    const token = await serviceToken();
    for (const service of ['gateway', 'users', 'orders', 'reviews'] as const) {
      expect((await graphql(endpoints[service], '{ __typename }', {}, token)).errors?.[0]?.extensions?.code, service).toBe('UNAUTHENTICATED');
    }
    expect((await graphql(stack.catalog.url, '{ __typename }', {}, token)).errors).toBeUndefined();
  });

  it('refuses a valid user token, even an admin one, on the internal stock operations with FORBIDDEN', async () => {
    const before = await reservations();
    const token = await userToken({ id: adminId, role: 'ADMIN' });
    expect((await graphql(stack.catalog.url, releaseStock, { id: randomUUID() }, token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await reservations()).toBe(before);
  });
});

describe('rotating the user-token key', () => {
  const previous = TEST_KEYS.users;
  const current = generateSigningKey();
  const servers: RunningServer[] = [];
  /** A users subgraph and a gateway in front of it, holding the given keys. */
  async function deployment(signing: SigningKey, trusted: SigningKey[]) {
    const vars = { USER_TOKEN_PRIVATE_KEY: signing, USER_TOKEN_PUBLIC_KEYS: trusted };
    const usersServer: RunningSubgraph<UsersDb> = await startSubgraph(users, subgraphConfig('users', { keys: resolveTokenKeys('users', vars, true).keys }));
    const urls = { users: usersServer.url };
    const gateway = await startGateway(gatewayConfig(urls, { keys: resolveTokenKeys('gateway', { USER_TOKEN_PUBLIC_KEYS: trusted }, true).keys }));
    servers.push(usersServer, gateway);
    const me = async (token: string) => {
      const [viaGateway, direct] = await Promise.all([graphql(gateway.url, '{ me { id } }', {}, token), graphql(usersServer.url, '{ me { id } }', {}, token)]);
      return [viaGateway.data?.me?.id ?? viaGateway.errors?.[0]?.extensions?.code, direct.data?.me?.id ?? direct.errors?.[0]?.extensions?.code];
    };
    const login = async () => (await graphql(gateway.url, 'mutation { login(email: "alice@example.com", password: "demo-alice-1") { token } }')).data!.login.token as string;
    return { me, login };
  }
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('keeps tokens signed with the previous key valid while it is configured, and signs new ones with the current key', async () => {
    expect(testTokenKeys('users').users!.signing!.kid).toBe(previous.kid);
    const before = await userToken({ id: aliceId, role: 'CUSTOMER' });
    const rotating = await deployment(current, [previous, current]);
    expect(await rotating.me(before)).toEqual([aliceId, aliceId]);
    const after = await rotating.login();
    expect(decodeProtectedHeader(after).kid).toBe(current.kid);
    expect(await rotating.me(after)).toEqual([aliceId, aliceId]);

    const done = await deployment(current, [current]);
    expect(await done.me(before)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(await done.me(after)).toEqual([aliceId, aliceId]);
  });
});
