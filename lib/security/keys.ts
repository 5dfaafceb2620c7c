// Token keys: one Ed25519 key pair per token issuer. Only the users service holds the private key
// that signs user tokens, only the orders service the one that signs the service token catalog's
// stock operations accept; every other service holds public keys, with which it verifies tokens
// but cannot mint one. Keys travel in environment variables as JSON Web Keys (`npm run keys`
// prints them); a key's id (`kid`, sent in every token's header) is its RFC 7638 thumbprint, so
// every service names a key the same way whatever `kid` a JWK carries.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { DEVELOPMENT_PRIVATE_KEYS } from './development-keys.js';
import type { ServiceName } from '../services.js';

/** Who signs a kind of token: the service of that name. */
export type Issuer = 'users' | 'orders';
export type KeyHolder = ServiceName | 'gateway';

interface IssuerSpec {
  /** What the token is, for messages. */
  token: string;
  /** Held by the issuer alone. */
  privateVar: string;
  /** A JWK Set: the current public key and, while keys rotate, the previous one. */
  publicVar: string;
  verifiers: readonly KeyHolder[];
}

export const ISSUERS: Record<Issuer, IssuerSpec> = {
  users: {
    token: 'user token',
    privateVar: 'USER_TOKEN_PRIVATE_KEY',
    publicVar: 'USER_TOKEN_PUBLIC_KEYS',
    verifiers: ['gateway', 'users', 'catalog', 'orders', 'reviews'],
  },
  orders: {
    token: 'orders service token',
    privateVar: 'ORDERS_TOKEN_PRIVATE_KEY',
    publicVar: 'ORDERS_TOKEN_PUBLIC_KEYS',
    verifiers: ['catalog'],
  },
};
const ISSUER_NAMES = Object.keys(ISSUERS) as Issuer[];

export interface VerifyingKey {
  kid: string;
  publicKey: KeyObject;
}
export interface SigningKey extends VerifyingKey {
  privateKey: KeyObject;
}
/** What one service holds for one issuer: the private key if it is the issuer, public keys if it verifies. */
export interface IssuerKeys {
  signing?: SigningKey;
  verifying: VerifyingKey[];
}
export type TokenKeys = Partial<Record<Issuer, IssuerKeys>>;

/**
 * Every key committed anywhere in this repository, by thumbprint: anyone can sign with them, so
 * production refuses them. test/unit/keys.test.ts scans the repository's files to keep this complete.
 */
export const PUBLISHED_KEYS: Readonly<Record<string, string>> = {
  '-HUYPEMpU2fGo7WALgHU1dmKlSKpiBNLeAh3q-mG77g': 'the development user-token key in lib/security/development-keys.ts',
  L3kcgTI8yteKu0od4O9hUMJ4S5HE7XIyalwhpxH6Ioc: 'the development orders service-token key in lib/security/development-keys.ts',
};

/** RFC 7638: SHA-256 over the key's required members (crv, kty, x for Ed25519), in that order. */
export function thumbprint(publicKey: KeyObject): string {
  const { crv, kty, x } = publicKey.export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ crv, kty, x })).digest('base64url');
}

export const generateSigningKey = (): SigningKey => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid: thumbprint(publicKey), publicKey, privateKey };
};

export const developmentKey = (issuer: Issuer): SigningKey => parsePrivateKey(DEVELOPMENT_PRIVATE_KEYS[issuer]);

/** The value of a *_PRIVATE_KEY variable. */
export function privateKeyJson(key: SigningKey): string {
  const { kty, crv, x, d } = key.privateKey.export({ format: 'jwk' });
  return JSON.stringify({ kty, crv, kid: key.kid, x, d });
}

/** The value of a *_PUBLIC_KEYS variable: a JWK Set. */
export function publicKeysJson(keys: readonly VerifyingKey[]): string {
  return JSON.stringify({
    keys: keys.map((key) => {
      const { kty, crv, x } = key.publicKey.export({ format: 'jwk' });
      return { kty, crv, kid: key.kid, x, alg: 'EdDSA', use: 'sig' };
    }),
  });
}

// Parsing. Messages describe the problem and never repeat the value (it may be a private key).

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('is not JSON: expected a JSON Web Key as printed by npm run keys');
  }
}

/** Only Ed25519 signing keys: a shared secret (kty "oct") could sign as well as verify, and other curves are not what we sign with. */
function ed25519(value: unknown, which: string): JsonWebKey & { x: string } {
  const subject = which ? `${which} ` : '';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${subject}is not a JSON Web Key object`);
  const jwk = value as JsonWebKey;
  if (jwk.kty === 'oct') throw new Error(`${subject}is a shared secret (kty "oct"): tokens are signed with Ed25519 key pairs (npm run keys)`);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    const what = [`kty ${JSON.stringify(jwk.kty)}`, ...(jwk.crv ? [`crv ${JSON.stringify(jwk.crv)}`] : [])].join(', ');
    throw new Error(`${subject}is not an Ed25519 key (${what}): only kty "OKP" with crv "Ed25519" is accepted`);
  }
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') throw new Error(`${subject}is for alg ${JSON.stringify(jwk.alg)}: only EdDSA is accepted`);
  if (typeof jwk.x !== 'string') throw new Error(`${subject}has no "x" (its public key)`);
  return jwk as JsonWebKey & { x: string };
}

function imported<T>(which: string, load: () => T): T {
  try {
    return load();
  } catch {
    throw new Error(`${which ? `${which} ` : ''}is not a valid Ed25519 key ("x" and "d" are 32 bytes each, base64url)`);
  }
}

/** The value of a *_PRIVATE_KEY variable: one private JWK. */
export function parsePrivateKey(text: string): SigningKey {
  const jwk = ed25519(json(text), '');
  if (typeof jwk.d !== 'string') throw new Error('is a public key: this variable takes the private key (the JWK with "d")');
  const privateKey = imported('', () => createPrivateKey({ key: jwk, format: 'jwk' }));
  const publicKey = createPublicKey(privateKey);
  // Node derives the public key from "d" and ignores a mismatched "x"; a copy-paste error should not pass.
  if (publicKey.export({ format: 'jwk' }).x !== jwk.x) throw new Error('its "x" is not the public key of its "d"');
  return { kid: thumbprint(publicKey), publicKey, privateKey };
}

/** The value of a *_PUBLIC_KEYS variable: a JWK Set of public keys. */
export function parsePublicKeys(text: string): VerifyingKey[] {
  const keys = (json(text) as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('must be a JWK Set with at least one key: {"keys":[...]}');
  return keys.map((value: unknown, i) => {
    const which = `key ${i + 1}`;
    const jwk = ed25519(value, which);
    if ('d' in jwk) throw new Error(`${which} is a private key: give only its public part (npm run keys prints both)`);
    const publicKey = imported(which, () => createPublicKey({ key: jwk, format: 'jwk' }));
    return { kid: thumbprint(publicKey), publicKey };
  });
}

// Which service holds what.

/** The key variables a service reads: its own issuer's private key, the public keys of the issuers it trusts. */
export function keyVarsOf(holder: KeyHolder): { variable: string; kind: 'private' | 'public'; issuer: Issuer }[] {
  return ISSUER_NAMES.flatMap((issuer) => [
    ...(holder === issuer ? [{ variable: ISSUERS[issuer].privateVar, kind: 'private' as const, issuer }] : []),
    ...(ISSUERS[issuer].verifiers.includes(holder) ? [{ variable: ISSUERS[issuer].publicVar, kind: 'public' as const, issuer }] : []),
  ]);
}

/** The environment a service needs for these signing keys: its private key, the public keys it verifies with. */
export function keyEnvOf(holder: KeyHolder, keys: Record<Issuer, SigningKey>): Record<string, string> {
  return Object.fromEntries(
    keyVarsOf(holder).map(({ variable, kind, issuer }) => [variable, kind === 'private' ? privateKeyJson(keys[issuer]) : publicKeysJson([keys[issuer]])]),
  );
}

export interface KeyProblem {
  variable: string;
  message: string;
}

/**
 * A service's keys from its parsed variables. Outside production a missing key is the committed
 * development key; in production it is a problem, and so is any published key. Where the service
 * holds a private key it verifies with its public half too, and a configured public key set must
 * contain it (or the others would refuse this service's tokens).
 */
export function resolveTokenKeys(
  holder: KeyHolder,
  vars: Record<string, SigningKey | VerifyingKey[] | undefined>,
  production: boolean,
): { keys: TokenKeys; problems: KeyProblem[] } {
  const problems: KeyProblem[] = [];
  const keys: TokenKeys = {};
  const issuerOf = new Map<string, Issuer>();
  const check = (variable: string, issuer: Issuer, key: VerifyingKey) => {
    const published = PUBLISHED_KEYS[key.kid];
    if (production && published) {
      problems.push({ variable, message: `key ${key.kid} is ${published}, which anyone can read and sign with; generate your own with npm run keys` });
    }
    const other = issuerOf.get(key.kid);
    if (other && other !== issuer) problems.push({ variable, message: `key ${key.kid} is also a key of the ${ISSUERS[other].token}: each issuer needs its own key pair` });
    issuerOf.set(key.kid, issuer);
  };
  const required = (variable: string) => problems.push({ variable, message: 'required in production (generate keys with npm run keys)' });

  for (const issuer of ISSUER_NAMES) {
    const spec = ISSUERS[issuer];
    const signs = holder === issuer;
    const verifies = spec.verifiers.includes(holder);
    if (!signs && !verifies) continue;

    let signing: SigningKey | undefined;
    if (signs) {
      signing = vars[spec.privateVar] as SigningKey | undefined;
      if (!signing && production) required(spec.privateVar);
      if (!signing && !production) signing = developmentKey(issuer);
      if (signing) check(spec.privateVar, issuer, signing);
    }

    let verifying: VerifyingKey[] = [];
    if (verifies) {
      const listed = vars[spec.publicVar] as VerifyingKey[] | undefined;
      if (listed) {
        if (signing && !listed.some((k) => k.kid === signing.kid)) {
          problems.push({
            variable: spec.publicVar,
            message: `does not contain the public key of ${spec.privateVar} (${signing.kid}): the other services would refuse this service's tokens`,
          });
        }
        verifying = listed;
      } else if (signing) {
        verifying = [signing];
      } else if (production) {
        required(spec.publicVar);
      } else {
        verifying = [developmentKey(issuer)];
      }
      for (const key of verifying) if (key !== signing) check(spec.publicVar, issuer, key);
    }
    keys[issuer] = { ...(signing ? { signing } : {}), verifying };
  }
  return { keys, problems };
}
