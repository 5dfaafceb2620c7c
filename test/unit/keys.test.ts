// Production refuses every key that is committed anywhere in the repository (PUBLISHED_KEYS). This
// scans the repository's files for PEM blocks and JSON Web Keys to keep that list complete.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, loadSubgraphConfig } from '../../lib/config.js';
import { generateSigningKey, PUBLISHED_KEYS, thumbprint } from '../../lib/security/keys.js';
import { ROOT } from '../../lib/paths.js';

/** The repository's files: tracked, and new ones not ignored. */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT });
  return out
    .toString()
    .split('\0')
    .filter((f) => f && lstatSync(path.join(ROOT, f), { throwIfNoEntry: false })?.isFile());
}

const PEM = /-----BEGIN ((?:[A-Z0-9]+ )*)(PRIVATE|PUBLIC) KEY-----[\s\S]+?-----END \1\2 KEY-----/g;
/** An object literal mentioning kty, in JSON or in code. */
const JWK_LIKE = /\{[^{}]*\bkty\b[^{}]*\}/g;
const MEMBER = /["']?(\w+)["']?\s*:\s*["']([^"'\n]*)["']/g;
const MATERIAL = /^[A-Za-z0-9_-]{16,}$/;

interface Found {
  where: string;
  kid?: string;
  problem?: string;
}

async function keysIn(file: string, text: string): Promise<Found[]> {
  const found: Found[] = [];
  const where = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
  for (const match of text.matchAll(PEM)) {
    try {
      const key = match[2] === 'PRIVATE' ? createPublicKey(createPrivateKey(match[0])) : createPublicKey(match[0]);
      found.push({ where: where(match.index), kid: await calculateJwkThumbprint(key.export({ format: 'jwk' }) as JWK) });
    } catch (err) {
      found.push({ where: where(match.index), problem: `a PEM key that cannot be read (${(err as Error).message})` });
    }
  }
  for (const match of text.matchAll(JWK_LIKE)) {
    const jwk = Object.fromEntries([...match[0].matchAll(MEMBER)].map(([, name, value]) => [name!, value!])) as JsonWebKey & Record<string, string>;
    // Placeholders (`"x":"…"`) and keys built at run time carry no key material.
    if (!['x', 'd', 'n', 'k'].some((m) => MATERIAL.test(jwk[m] ?? ''))) continue;
    try {
      const publicJwk = jwk.d && jwk.kty !== 'oct' ? createPublicKey(createPrivateKey({ key: jwk, format: 'jwk' })).export({ format: 'jwk' }) : jwk;
      found.push({ where: where(match.index), kid: await calculateJwkThumbprint(publicJwk as JWK) });
    } catch (err) {
      found.push({ where: where(match.index), problem: `a JSON Web Key that cannot be read (${(err as Error).message})` });
    }
  }
  return found;
}

describe('published keys', () => {
  it('lists every key committed anywhere in the repository, and only those', async () => {
    const found: Found[] = [];
    for (const file of repositoryFiles()) {
      const bytes = readFileSync(path.join(ROOT, file));
      if (bytes.includes(0)) continue; // binary
      found.push(...(await keysIn(file, bytes.toString('utf8'))));
    }
    expect(found.filter((f) => f.problem)).toEqual([]);
    const unlisted = found.filter((f) => !(f.kid! in PUBLISHED_KEYS));
    expect(unlisted, 'add these thumbprints to PUBLISHED_KEYS in lib/security/keys.ts').toEqual([]);
    expect([...new Set(found.map((f) => f.kid))].sort()).toEqual(Object.keys(PUBLISHED_KEYS).sort());
    // The scan sees the development keys where they are committed.
    expect(found.map((f) => f.where)).toEqual(expect.arrayContaining([expect.stringMatching(/^lib\/security\/development-keys\.ts:\d+$/)]));
  });

  it('finds keys in PEM, in JSON and in code, private or public', async () => {
    const key = generateSigningKey();
    const privateJwk = key.privateKey.export({ format: 'jwk' });
    const text = [
      key.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      key.publicKey.export({ format: 'pem', type: 'spki' }),
      JSON.stringify({ keys: [{ ...privateJwk, d: undefined }] }),
      `const k = { kty: 'OKP', crv: 'Ed25519', d: '${privateJwk.d}', x: '${privateJwk.x}' };`,
      'USER_TOKEN_PRIVATE_KEY=\'{"kty":"OKP","crv":"Ed25519","kid":"…","x":"…","d":"…"}\'',
    ].join('\n');
    expect((await keysIn('example', text)).map((f) => f.kid)).toEqual([key.kid, key.kid, key.kid, key.kid]);
  });

  it('names a key by its RFC 7638 thumbprint', async () => {
    const key = generateSigningKey();
    expect(thumbprint(key.publicKey)).toBe(await calculateJwkThumbprint(key.publicKey.export({ format: 'jwk' }) as JWK));
  });
});

describe('npm run keys', () => {
  /** The environment lines it prints, as .env or a shell reads them. */
  const run = (...args: string[]): Record<string, string> =>
    Object.fromEntries(
      execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/keys.ts'), ...args], { cwd: ROOT })
        .toString()
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => /^(\w+)='(.*)'$/.exec(l)!.slice(1, 3) as [string, string]),
    );

  it('prints new keys that every service accepts in production', () => {
    const env: Record<string, string> = { ...run(), NODE_ENV: 'production' };
    expect(Object.keys(env).sort()).toEqual(['NODE_ENV', 'ORDERS_TOKEN_PRIVATE_KEY', 'ORDERS_TOKEN_PUBLIC_KEYS', 'USER_TOKEN_PRIVATE_KEY', 'USER_TOKEN_PUBLIC_KEYS']);
    for (const name of ['users', 'catalog', 'orders', 'reviews'] as const) expect(loadSubgraphConfig(name, env).production).toBe(true);
    expect(loadGatewayConfig(env).keys.users!.verifying).toHaveLength(1);
    expect(run().USER_TOKEN_PRIVATE_KEY).not.toBe(env.USER_TOKEN_PRIVATE_KEY);
  });

  it('prints a new pair for one issuer, keeping the previous public keys for a rotation', () => {
    const before = run('users');
    expect(Object.keys(before).sort()).toEqual(['USER_TOKEN_PRIVATE_KEY', 'USER_TOKEN_PUBLIC_KEYS']);
    const after = run('users', '--previous', before.USER_TOKEN_PUBLIC_KEYS!);
    const kids = (env: Record<string, string>) => loadSubgraphConfig('users', { ...env, NODE_ENV: 'production' }).keys.users!;
    // First every service trusts both keys while users still signs with the previous one, then users switches.
    const rotating = kids({ USER_TOKEN_PRIVATE_KEY: before.USER_TOKEN_PRIVATE_KEY!, USER_TOKEN_PUBLIC_KEYS: after.USER_TOKEN_PUBLIC_KEYS! });
    const switched = kids(after);
    expect(rotating.verifying.map((k) => k.kid)).toEqual([kids(before).signing!.kid, switched.signing!.kid]);
    expect(switched.verifying.map((k) => k.kid)).toEqual(rotating.verifying.map((k) => k.kid));
  });
});
