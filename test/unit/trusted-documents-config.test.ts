// The OPERATIONS and RESPONSE_CACHE settings: the manifest only in production unless told otherwise, clear errors
// naming the variable, and a manifest whose ids are not its bodies' hashes refused at start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest, useTrustedDocuments } from '../../gateway/features/trusted-documents.js';
import { loadGatewayConfig } from '../../lib/config.js';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE } from '../../lib/persisted-manifest.js';
import { keyEnv } from '../support/harness.js';
import { manifest, persisted } from '../support/persisted-requests.js';

const production = { ...keyEnv('gateway'), NODE_ENV: 'production' };
const dir = mkdtempSync(path.join(tmpdir(), 'operations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the trusted-documents settings', () => {
  it('run the manifest only in production, anything in development, unless OPERATIONS says otherwise', () => {
    expect(loadGatewayConfig(production).trustedDocuments.policy).toBe('manifest');
    expect(loadGatewayConfig({}).trustedDocuments.policy).toBe('any');
    expect(loadGatewayConfig({ ...production, OPERATIONS: 'persisted' }).trustedDocuments.policy).toBe('persisted');
    expect(loadGatewayConfig({ OPERATIONS: 'manifest' }).trustedDocuments.policy).toBe('manifest');
  });

  it('keep a response cache in production, in Redis when REDIS_URL is set, and none in development unless asked', () => {
    expect(loadGatewayConfig(production).responseCache).toEqual({ enabled: true, redis: undefined });
    expect(loadGatewayConfig({ ...production, REDIS_URL: 'redis://cache:6379' }).responseCache).toEqual({ enabled: true, redis: { url: 'redis://cache:6379', keyPrefix: 'commerce:' } });
    expect(loadGatewayConfig({}).responseCache.enabled).toBe(false);
    expect(loadGatewayConfig({ RESPONSE_CACHE: 'true' }).responseCache.enabled).toBe(true);
    expect(() => loadGatewayConfig({ REDIS_URL: 'cache:6379' })).toThrow(/REDIS_URL: must be a redis/);
  });

  it('refuse an unknown policy and a short admin key, naming the variable', () => {
    expect(() => loadGatewayConfig({ OPERATIONS: 'some' })).toThrow(/OPERATIONS:/);
    expect(() => loadGatewayConfig({ OPERATIONS_ADMIN_KEY: 'secret' })).toThrow(/OPERATIONS_ADMIN_KEY: must be at least 32 characters/);
    expect(loadGatewayConfig({ OPERATIONS_ADMIN_KEY: 'k'.repeat(32) }).trustedDocuments.adminKey).toBe('k'.repeat(32));
  });

  it('refuse a manifest that is not Apollo\'s format, or whose id is not the hash of its body', () => {
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify(manifest));
    expect(readManifest(file).size).toBe(manifest.operations.length);
    const [first, ...rest] = manifest.operations;
    writeFileSync(file, JSON.stringify({ ...manifest, operations: [{ ...first!, body: `${first!.body} ` }, ...rest] }));
    expect(() => readManifest(file)).toThrow(new RegExp(`the id of ${first!.name} is not the SHA-256 of its body`));
    writeFileSync(file, JSON.stringify({ operations: [] }));
    expect(() => readManifest(file)).toThrow(/not an Apollo persisted query manifest/);
  });
});

describe('the policy for an operation that arrives by another path (a subscription over WebSocket)', () => {
  const manifestPath = path.join(ROOT, MANIFEST_FILE);
  const sent = { query: undefined, hash: undefined, viewer: null, operationsKey: undefined };
  const codeOf = (run: () => unknown) => {
    try {
      run();
      return 'ran';
    } catch (err) {
      return String((err as { extensions?: { code?: string } }).extensions?.code);
    }
  };

  it('gives the manifest\'s text for its id and refuses the rest under OPERATIONS=manifest', () => {
    const { check } = useTrustedDocuments({ policy: 'manifest', manifestPath, adminKey: 'k'.repeat(32) });
    const me = persisted('Me');
    expect(check({ ...sent, hash: me.id })).toBe(me.body);
    expect(codeOf(() => check({ ...sent, query: 'subscription { anything }' }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(codeOf(() => check({ ...sent, hash: 'f'.repeat(64) }))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(check({ ...sent, query: 'subscription { anything }', viewer: { id: 'a', role: 'ADMIN' } })).toBe('subscription { anything }');
    expect(check({ ...sent, query: 'subscription { anything }', operationsKey: 'k'.repeat(32) })).toBe('subscription { anything }');
  });

  it('asks for a hash under OPERATIONS=persisted and takes anything under OPERATIONS=any', () => {
    expect(codeOf(() => useTrustedDocuments({ policy: 'persisted', manifestPath, adminKey: undefined }).check({ ...sent, query: '{ a }' }))).toBe('PERSISTED_QUERY_ID_REQUIRED');
    expect(useTrustedDocuments({ policy: 'any', manifestPath, adminKey: undefined }).check({ ...sent, query: '{ a }' })).toBe('{ a }');
  });
});
