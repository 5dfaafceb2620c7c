import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { envVarsOf, loadGatewayConfig, loadSubgraphConfig } from '../../lib/config.js';
import { DEVELOPMENT_PRIVATE_KEYS } from '../../lib/security/development-keys.js';
import { developmentKey, generateSigningKey, privateKeyJson, publicKeysJson, type SigningKey } from '../../lib/security/keys.js';

describe('configuration', () => {
  it('starts with no variables at all: embedded database, local ports, demo data', () => {
    const config = loadSubgraphConfig('catalog', {});
    expect(config).toMatchObject({ port: 4002, databaseUrl: undefined, seed: true, production: false });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.subgraphUrls.orders).toBe('http://localhost:4003/graphql');
  });

  it('uses PostgreSQL when the subgraph has a URL, and does not seed it unless asked', () => {
    const config = loadSubgraphConfig('orders', { ORDERS_DATABASE_URL: 'postgresql://db/orders' });
    expect(config).toMatchObject({ databaseUrl: 'postgresql://db/orders', dataDir: undefined, seed: false });
    expect(loadSubgraphConfig('orders', { ORDERS_DATABASE_URL: 'postgresql://db/orders', SEED: 'true' }).seed).toBe(true);
  });

  it.each([
    [{ CATALOG_PORT: 'eighty' }, /CATALOG_PORT/],
    [{ CATALOG_DATABASE_URL: 'mysql://db/x' }, /CATALOG_DATABASE_URL: must be a postgres/],
    [{ USERS_URL: 'not a url' }, /USERS_URL/],
    [{ SEED: 'yes' }, /SEED/],
    [{ TRUSTED_PROXIES: 'loopback, proxy.example.com' }, /TRUSTED_PROXIES: must be comma-separated IP addresses or CIDRs/],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /TRUSTED_PROXIES/],
    [{ LOGIN_FAILURES_PER_ACCOUNT: '0' }, /LOGIN_FAILURES_PER_ACCOUNT/],
    [{ REGISTRATION_WINDOW_SECONDS: 'an hour' }, /REGISTRATION_WINDOW_SECONDS/],
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadSubgraphConfig('catalog', env)).toThrow(message);
  });

  it('throttles logins in the users database by default, in Redis when REDIS_URL is set', () => {
    expect(loadSubgraphConfig('users', {})).toMatchObject({
      loginThrottle: { failuresPerAccount: 5, failuresPerAddress: 30, failureWindowSeconds: 900, registrationsPerAddress: 20, registrationWindowSeconds: 3600 },
      redis: undefined,
    });
    const withRedis = loadSubgraphConfig('users', { REDIS_URL: 'redis://cache:6379', LOGIN_FAILURES_PER_ADDRESS: '50' });
    expect(withRedis).toMatchObject({ redis: { url: 'redis://cache:6379', keyPrefix: 'commerce:' }, loginThrottle: { failuresPerAddress: 50 } });
  });

  it('trusts X-Forwarded-For from the private networks in a subgraph, and from no one in the gateway, unless told', () => {
    expect(loadSubgraphConfig('users', {}).trustedProxies).toEqual(['loopback', 'uniquelocal']);
    expect(loadGatewayConfig({}).trustedProxies).toEqual([]);
    expect(loadGatewayConfig({ TRUSTED_PROXIES: 'loopback, 10.0.0.0/8,fd00::/8' }).trustedProxies).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    expect(loadSubgraphConfig('users', { TRUSTED_PROXIES: 'none' }).trustedProxies).toEqual([]);
  });

  it('routes the gateway by its supergraph: a *_URL variable overrides one subgraph only when set', () => {
    expect(loadGatewayConfig({}).subgraphUrls).toEqual({});
    expect(loadGatewayConfig({ REVIEWS_URL: 'http://reviews.internal:8080/graphql' }).subgraphUrls).toEqual({
      reviews: 'http://reviews.internal:8080/graphql',
    });
    expect(() => loadGatewayConfig({ USERS_URL: 'not a url' })).toThrow(/USERS_URL/);
    // The subgraphs call catalog themselves, so they keep a local default.
    expect(loadSubgraphConfig('orders', {}).subgraphUrls.catalog).toBe('http://localhost:4002/graphql');
  });

  it('reads the gateway settings', () => {
    expect(loadGatewayConfig({ SUPERGRAPH: 'introspect', GATEWAY_PORT: '8080' })).toMatchObject({ introspect: true, port: 8080 });
    expect(() => loadGatewayConfig({ SUPERGRAPH: 'guess' })).toThrow(/SUPERGRAPH/);
  });

  it('gives every client a cost budget per window, administrators and the service token their own, none below MAX_COST', () => {
    expect(loadGatewayConfig({}).costBudget).toEqual({ points: 2_000_000, adminPoints: 10_000_000, servicePoints: 10_000_000, windowSeconds: 60, key: 'viewer', redis: undefined });
    expect(loadGatewayConfig({ COST_BUDGET: '500000', COST_BUDGET_KEY: 'client-name', REDIS_URL: 'redis://cache:6379' }).costBudget).toMatchObject({
      points: 500_000,
      key: 'client-name',
      redis: { url: 'redis://cache:6379', keyPrefix: 'commerce:' },
    });
    expect(() => loadGatewayConfig({ COST_BUDGET: '1000' })).toThrow(/COST_BUDGET: must be at least MAX_COST \(200000\)/);
    expect(() => loadGatewayConfig({ COST_BUDGET_ADMIN: '0' })).toThrow(/COST_BUDGET_ADMIN/);
    expect(() => loadGatewayConfig({ COST_BUDGET_KEY: 'ip' })).toThrow(/COST_BUDGET_KEY/);
    expect(loadGatewayConfig({ COST_ASSUMED_LIST_SIZE: '25' }).costAssumedListSize).toBe(25);
    expect(loadGatewayConfig({ AUTHORIZATION_REJECT_UNAUTHORIZED: 'true' }).rejectUnauthorized).toBe(true);
  });

  it('turns batched requests off unless BATCH_MAX_OPERATIONS says how many one batch may hold', () => {
    expect(loadGatewayConfig({}).batching).toEqual({ maxOperations: 0 });
    expect(loadGatewayConfig({ BATCH_MAX_OPERATIONS: '10' }).batching).toEqual({ maxOperations: 10 });
    expect(() => loadGatewayConfig({ BATCH_MAX_OPERATIONS: 'ten' })).toThrow(/BATCH_MAX_OPERATIONS/);
    expect(() => loadGatewayConfig({ BATCH_MAX_OPERATIONS: '-1' })).toThrow(/BATCH_MAX_OPERATIONS: must be 0 \(off\) or more/);
    expect(() => loadGatewayConfig({ BATCH_MAX_OPERATIONS: '2.5' })).toThrow(/BATCH_MAX_OPERATIONS: must be a whole number/);
    expect(() => loadGatewayConfig({ BATCH_MAX_OPERATIONS: '101' })).toThrow(/BATCH_MAX_OPERATIONS: must be at most 100/);
  });

  it('bounds subscriptions per connection, per user and by unread bytes, as told', () => {
    expect(loadGatewayConfig({}).subscriptions).toEqual({ perConnection: 50, perUser: 200, maxBufferedBytes: 1024 * 1024 });
    expect(loadGatewayConfig({ SUBSCRIPTIONS_PER_CONNECTION: '10', SUBSCRIPTIONS_PER_USER: '40', SUBSCRIPTION_BUFFER_BYTES: '262144' }).subscriptions).toEqual({
      perConnection: 10,
      perUser: 40,
      maxBufferedBytes: 262144,
    });
    expect(() => loadGatewayConfig({ SUBSCRIPTIONS_PER_USER: '0' })).toThrow(/SUBSCRIPTIONS_PER_USER/);
    expect(() => loadGatewayConfig({ SUBSCRIPTION_BUFFER_BYTES: '1000' })).toThrow(/SUBSCRIPTION_BUFFER_BYTES: must be at least 16384/);
  });

  it('refuses the demo data in production, and seeds nothing there unless asked', () => {
    const env = { ...productionKeys('catalog'), NODE_ENV: 'production' };
    expect(loadSubgraphConfig('catalog', env).seed).toBe(false);
    expect(() => loadSubgraphConfig('catalog', { ...env, SEED: 'true' })).toThrow(/SEED: the demo data has published passwords .* npm run create-admin/);
    expect(() => loadSubgraphConfig('users', { ...productionKeys('users'), NODE_ENV: 'production', SEED: '1' })).toThrow(/SEED:/);
    // Every problem at once, so that one start tells the operator everything to fix.
    expect(() => loadSubgraphConfig('catalog', { NODE_ENV: 'production', SEED: 'true' })).toThrow(
      /^invalid configuration:\n {2}USER_TOKEN_PUBLIC_KEYS: required in production.*\n {2}ORDERS_TOKEN_PUBLIC_KEYS: required in production.*\n {2}SEED: the demo data/,
    );
  });
});

const keys = { users: generateSigningKey(), orders: generateSigningKey() };
/** Freshly generated keys for each service, in the variables it reads. */
function productionKeys(service: 'users' | 'catalog' | 'orders' | 'reviews' | 'gateway', of: typeof keys = keys): Record<string, string> {
  const all: Record<string, string> = {
    USER_TOKEN_PRIVATE_KEY: privateKeyJson(of.users),
    USER_TOKEN_PUBLIC_KEYS: publicKeysJson([of.users]),
    ORDERS_TOKEN_PRIVATE_KEY: privateKeyJson(of.orders),
    ORDERS_TOKEN_PUBLIC_KEYS: publicKeysJson([of.orders]),
  };
  return Object.fromEntries(Object.entries(all).filter(([k]) => envVarsOf(service).includes(k)));
}
const load = (service: 'users' | 'catalog' | 'orders' | 'reviews' | 'gateway', env: Record<string, string>) =>
  service === 'gateway' ? loadGatewayConfig(env) : loadSubgraphConfig(service, env);
const jwkOf = (key: { export(o: { format: 'jwk' }): object }) => key.export({ format: 'jwk' });

describe('token keys', () => {
  it('gives each service only its own private key and the public keys it verifies with', () => {
    expect(envVarsOf('users')).toEqual(expect.arrayContaining(['USER_TOKEN_PRIVATE_KEY', 'USER_TOKEN_PUBLIC_KEYS']));
    expect(envVarsOf('orders')).toEqual(expect.arrayContaining(['ORDERS_TOKEN_PRIVATE_KEY', 'USER_TOKEN_PUBLIC_KEYS']));
    expect(envVarsOf('catalog')).toEqual(expect.arrayContaining(['ORDERS_TOKEN_PUBLIC_KEYS', 'USER_TOKEN_PUBLIC_KEYS']));
    for (const service of ['gateway', 'catalog', 'reviews', 'orders'] as const) expect(envVarsOf(service)).not.toContain('USER_TOKEN_PRIVATE_KEY');
    for (const service of ['gateway', 'catalog', 'reviews', 'users'] as const) expect(envVarsOf(service)).not.toContain('ORDERS_TOKEN_PRIVATE_KEY');
    for (const service of ['gateway', 'users', 'orders', 'reviews'] as const) expect(envVarsOf(service)).not.toContain('ORDERS_TOKEN_PUBLIC_KEYS');
    expect(envVarsOf('gateway')).not.toContain('JWT_SECRET');

    const kids = (k: { kid: string }[] | undefined) => k?.map((x) => x.kid);
    for (const service of ['users', 'catalog', 'orders', 'reviews', 'gateway'] as const) {
      const config = load(service, { ...productionKeys(service), NODE_ENV: 'production' });
      expect(config.production).toBe(true);
      expect(kids(config.keys.users?.verifying)).toEqual([keys.users.kid]);
      expect(config.keys.users?.signing?.kid).toBe(service === 'users' ? keys.users.kid : undefined);
      expect(config.keys.orders?.signing?.kid).toBe(service === 'orders' ? keys.orders.kid : undefined);
      expect(kids(config.keys.orders?.verifying)).toEqual(service === 'catalog' ? [keys.orders.kid] : service === 'orders' ? [] : undefined);
    }
  });

  it('uses the committed development keys outside production, with no configuration at all', () => {
    expect(loadSubgraphConfig('users', {}).keys.users?.signing?.kid).toBe(developmentKey('users').kid);
    expect(loadSubgraphConfig('catalog', {}).keys.orders?.verifying.map((k) => k.kid)).toEqual([developmentKey('orders').kid]);
    expect(loadGatewayConfig({}).keys.users?.verifying.map((k) => k.kid)).toEqual([developmentKey('users').kid]);
  });

  it.each([
    ['users', ['USER_TOKEN_PRIVATE_KEY']],
    ['orders', ['ORDERS_TOKEN_PRIVATE_KEY', 'USER_TOKEN_PUBLIC_KEYS']],
    ['catalog', ['USER_TOKEN_PUBLIC_KEYS', 'ORDERS_TOKEN_PUBLIC_KEYS']],
    ['reviews', ['USER_TOKEN_PUBLIC_KEYS']],
    ['gateway', ['USER_TOKEN_PUBLIC_KEYS']],
  ] as const)('refuses to start %s in production without %j', (service, variables) => {
    for (const variable of variables) expect(() => load(service, { NODE_ENV: 'production' })).toThrow(new RegExp(`${variable}: required in production`));
    // Each one alone is missed too.
    for (const variable of variables) {
      const env: Record<string, string> = { ...productionKeys(service), NODE_ENV: 'production' };
      delete env[variable];
      expect(() => load(service, env)).toThrow(new RegExp(`${variable}: required in production`));
    }
  });

  it.each([
    ['users', 'USER_TOKEN_PRIVATE_KEY', DEVELOPMENT_PRIVATE_KEYS.users],
    ['users', 'USER_TOKEN_PUBLIC_KEYS', publicKeysJson([keys.users, developmentKey('users')])],
    ['gateway', 'USER_TOKEN_PUBLIC_KEYS', publicKeysJson([developmentKey('users')])],
    ['reviews', 'USER_TOKEN_PUBLIC_KEYS', publicKeysJson([keys.users, developmentKey('users')])],
    ['orders', 'ORDERS_TOKEN_PRIVATE_KEY', DEVELOPMENT_PRIVATE_KEYS.orders],
    ['catalog', 'ORDERS_TOKEN_PUBLIC_KEYS', publicKeysJson([developmentKey('orders')])],
  ] as const)('refuses to start %s in production with a committed key in %s', (service, variable, value) => {
    const env: Record<string, string> = { ...productionKeys(service), NODE_ENV: 'production', [variable]: value };
    // A private key alone: its service then verifies with its public half.
    if (variable === 'USER_TOKEN_PRIVATE_KEY') delete env.USER_TOKEN_PUBLIC_KEYS;
    expect(() => load(service, env)).toThrow(new RegExp(`${variable}: key \\S+ is the development .* lib/security/development-keys.ts`));
    // The same value is fine for development.
    expect(() => load(service, { ...env, NODE_ENV: 'development' })).not.toThrow();
  });

  const ed25519 = generateKeyPairSync('ed25519');
  const weak: [string, string, string, RegExp][] = [
    ['a shared secret', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify({ kty: 'oct', k: Buffer.alloc(64, 7).toString('base64url') }), /is a shared secret \(kty "oct"\)/],
    ['an RSA key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify(jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)), /is not an Ed25519 key \(kty "RSA"\): only kty "OKP" with crv "Ed25519"/],
    ['a P-256 key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify(jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)), /is not an Ed25519 key \(kty "EC", crv "P-256"\)/],
    ['an X25519 key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify(jwkOf(generateKeyPairSync('x25519').privateKey)), /is not an Ed25519 key \(kty "OKP", crv "X25519"\)/],
    ['an Ed448 key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify(jwkOf(generateKeyPairSync('ed448').privateKey)), /is not an Ed25519 key \(kty "OKP", crv "Ed448"\)/],
    ['a key for HS256', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify({ ...jwkOf(ed25519.privateKey), alg: 'HS256' }), /is for alg "HS256": only EdDSA/],
    ['a short key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'AAAA' }), /is not a valid Ed25519 key/],
    ['a public key as the private key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify(jwkOf(ed25519.publicKey)), /is a public key: this variable takes the private key/],
    ['a private key whose x is another key', 'USER_TOKEN_PRIVATE_KEY', JSON.stringify({ ...jwkOf(ed25519.privateKey), x: (jwkOf(keys.users.publicKey) as { x: string }).x }), /its "x" is not the public key of its "d"/],
    ['a PEM key', 'USER_TOKEN_PRIVATE_KEY', ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), /is not JSON/],
    ['a private key among the public keys', 'USER_TOKEN_PUBLIC_KEYS', JSON.stringify({ keys: [jwkOf(keys.users.publicKey), jwkOf(keys.users.privateKey)] }), /key 2 is a private key: give only its public part/],
    ['one key instead of a set', 'USER_TOKEN_PUBLIC_KEYS', JSON.stringify(jwkOf(keys.users.publicKey)), /must be a JWK Set/],
    ['an empty set', 'USER_TOKEN_PUBLIC_KEYS', '{"keys":[]}', /must be a JWK Set with at least one key/],
    ['an RSA public key in the set', 'USER_TOKEN_PUBLIC_KEYS', JSON.stringify({ keys: [jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)] }), /key 1 is not an Ed25519 key \(kty "RSA"\)/],
  ];
  it.each(weak)('refuses %s in %s, in any environment, without printing it', (_label, variable, value, message) => {
    for (const NODE_ENV of ['production', 'development']) {
      const env = { ...productionKeys('users'), NODE_ENV, [variable]: value };
      let error: Error | undefined;
      try {
        loadSubgraphConfig('users', env);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(new RegExp(`${variable}: ${message.source}`));
      for (const secret of Object.values(JSON.parse(value.startsWith('{') ? value : '{}') as Record<string, unknown>)) {
        if (typeof secret === 'string' && secret.length > 20) expect(error?.message).not.toContain(secret);
      }
    }
  });

  it('refuses a public key set on the users service that lacks its own key, since everyone else would refuse its tokens', () => {
    const env = { ...productionKeys('users'), NODE_ENV: 'production', USER_TOKEN_PUBLIC_KEYS: publicKeysJson([generateSigningKey()]) };
    expect(() => loadSubgraphConfig('users', env)).toThrow(new RegExp(`USER_TOKEN_PUBLIC_KEYS: does not contain the public key of USER_TOKEN_PRIVATE_KEY \\(${keys.users.kid}\\)`));
  });

  it('refuses one key pair for both issuers', () => {
    const env = { ...productionKeys('catalog'), NODE_ENV: 'production', ORDERS_TOKEN_PUBLIC_KEYS: publicKeysJson([keys.users]) };
    expect(() => loadSubgraphConfig('catalog', env)).toThrow(/ORDERS_TOKEN_PUBLIC_KEYS: key \S+ is also a key of the user token/);
  });

  it('verifies with the previous key beside the current one while keys rotate, and signs with the current one', () => {
    const next: SigningKey = generateSigningKey();
    const rotating = { NODE_ENV: 'production', USER_TOKEN_PRIVATE_KEY: privateKeyJson(next), USER_TOKEN_PUBLIC_KEYS: publicKeysJson([keys.users, next]) };
    const users = loadSubgraphConfig('users', rotating).keys.users!;
    expect(users.signing?.kid).toBe(next.kid);
    expect(users.verifying.map((k) => k.kid)).toEqual([keys.users.kid, next.kid]);
    // Without a public key set the users service verifies with its own key only.
    expect(loadSubgraphConfig('users', { NODE_ENV: 'production', USER_TOKEN_PRIVATE_KEY: privateKeyJson(next) }).keys.users!.verifying.map((k) => k.kid)).toEqual([next.kid]);
  });
});
