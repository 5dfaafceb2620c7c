// Identity: user tokens signed by the users subgraph alone and service tokens signed by the orders
// subgraph alone (each with its own Ed25519 private key, lib/security/keys.ts), verified by every service
// with public keys, so no service trusts a bare user-id header and none can mint another's token.
import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { forbidden, unauthenticated } from '../errors.js';
import type { Issuer, SigningKey, TokenKeys } from './keys.js';

export type Role = 'CUSTOMER' | 'ADMIN' | 'SERVICE';
export interface Viewer {
  id: string;
  role: Role;
  /** The scopes the token carries (its `scope` claim), never more than its role's; the role's when the token has none. */
  scopes?: readonly string[];
}

/**
 * The scopes each role grants: the one table the schemas' `@requiresScopes` are written against
 * (docs/api.md, "Who may do what"). A token carries its role's scopes in its `scope` claim.
 */
export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = {
  CUSTOMER: ['orders:write', 'reviews:write'],
  ADMIN: ['orders:write', 'reviews:write', 'catalog:write'],
  SERVICE: ['stock:reserve'],
};

/** The scopes a viewer holds: those its token carries, or its role's. */
export function scopesOf(viewer: Viewer | null): readonly string[] {
  return viewer ? (viewer.scopes ?? ROLE_SCOPES[viewer.role]) : [];
}

export const TOKEN_TTL = '12h';
const SERVICE_TOKEN_TTL = '5m';
const ALGORITHM = 'EdDSA';
/** The issuer and audience of each kind of token: a service token is only for catalog. */
const CLAIMS: Record<Issuer, { issuer: string; audience: string }> = {
  users: { issuer: 'commerce-supergraph/users', audience: 'commerce-supergraph' },
  orders: { issuer: 'commerce-supergraph/orders', audience: 'commerce-supergraph/catalog' },
};

/** The viewer each issuer may vouch for: users only for customers and admins, a service only for itself. */
function viewerOf(issuer: Issuer, payload: JWTPayload): Viewer | null {
  const { sub, role } = payload;
  if (typeof sub !== 'string') return null;
  if (issuer === 'users') return role === 'CUSTOMER' || role === 'ADMIN' ? withScopes({ id: sub, role }, payload.scope) : null;
  return role === 'SERVICE' && sub === issuer ? withScopes({ id: sub, role }, payload.scope) : null;
}

/** The token's scopes, kept to those its role grants (a token never widens its role); the role's without a claim. */
function withScopes(viewer: Viewer, claim: unknown): Viewer | null {
  if (claim === undefined) return viewer;
  if (typeof claim !== 'string') return null;
  const granted = new Set(ROLE_SCOPES[viewer.role]);
  return { ...viewer, scopes: claim.split(' ').filter((s) => granted.has(s)) };
}

export class Tokens {
  readonly #keys: TokenKeys;
  /** Every public key this service trusts, by kid, with the issuer it speaks for. */
  readonly #trusted = new Map<string, { issuer: Issuer; key: KeyObject }>();

  constructor(keys: TokenKeys) {
    this.#keys = keys;
    for (const issuer of Object.keys(keys) as Issuer[]) {
      for (const { kid, publicKey } of keys[issuer]!.verifying) this.#trusted.set(kid, { issuer, key: publicKey });
    }
  }

  #signer(issuer: Issuer): SigningKey {
    const key = this.#keys[issuer]?.signing;
    if (!key) throw new Error(`this service does not hold the ${issuer} signing key`);
    return key;
  }

  #sign(issuer: Issuer, viewer: Viewer, expiresIn: string | number): Promise<string> {
    const key = this.#signer(issuer);
    return new SignJWT({ role: viewer.role, scope: ROLE_SCOPES[viewer.role].join(' ') })
      .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setSubject(viewer.id)
      .setIssuer(CLAIMS[issuer].issuer)
      .setAudience(CLAIMS[issuer].audience)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key.privateKey);
  }

  /** A user token (users subgraph only: it alone holds the key). */
  sign(viewer: Viewer, expiresIn: string | number = TOKEN_TTL): Promise<string> {
    if (viewer.role === 'SERVICE') throw new Error('a user token names a customer or an admin');
    return this.#sign('users', viewer, expiresIn);
  }

  /** A short-lived token with which a service calls another's internal operations (orders only, for now). */
  signService(service: Exclude<Issuer, 'users'>): Promise<string> {
    return this.#sign(service, { id: service, role: 'SERVICE' }, SERVICE_TOKEN_TTL);
  }

  /** The viewer a token names; throws UNAUTHENTICATED for a forged, malformed, expired or unknown-key token. */
  async verify(token: string): Promise<Viewer> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw unauthenticated('invalid token');
    }
    const trusted = typeof kid === 'string' ? this.#trusted.get(kid) : undefined;
    if (!trusted) throw unauthenticated('invalid token');
    try {
      const { payload } = await jwtVerify(token, trusted.key, { algorithms: [ALGORITHM], ...CLAIMS[trusted.issuer] });
      const viewer = viewerOf(trusted.issuer, payload);
      if (!viewer) throw unauthenticated('invalid token');
      return viewer;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw unauthenticated('token expired: log in again');
      if (e instanceof joseErrors.JOSEError) throw unauthenticated('invalid token');
      throw e;
    }
  }

  /** Reads `Authorization: Bearer <jwt>`: null without the header, an error for anything invalid. */
  async fromAuthorization(header: string | undefined): Promise<Viewer | null> {
    if (!header) return null;
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
    return this.verify(match[1]);
  }
}

export interface AuthContext {
  viewer: Viewer | null;
}

export function requireViewer(ctx: AuthContext): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}

export function requireAdmin(ctx: AuthContext): Viewer {
  const viewer = requireViewer(ctx);
  if (viewer.role !== 'ADMIN') throw forbidden('this operation requires the ADMIN role');
  return viewer;
}

/** The owner of a record, or an admin, may read it. */
/** Internal operations (e.g. stock reservations) accept only another service's token. */
export function requireService(ctx: AuthContext, service: string): Viewer {
  const viewer = requireViewer(ctx);
  if (viewer.role !== 'SERVICE' || viewer.id !== service) throw forbidden(`this operation is internal to the ${service} service`);
  return viewer;
}

export function canSee(ctx: AuthContext, ownerId: string): boolean {
  return ctx.viewer !== null && (ctx.viewer.id === ownerId || ctx.viewer.role === 'ADMIN');
}
