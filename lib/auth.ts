// Identity: JWTs signed by the users subgraph, verified by every subgraph and the gateway itself,
// so no service ever trusts a bare user-id header.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { forbidden, unauthenticated } from './errors.js';

export type Role = 'CUSTOMER' | 'ADMIN' | 'SERVICE';
export interface Viewer {
  id: string;
  role: Role;
}

const ISSUER = 'commerce-supergraph/users';
const AUDIENCE = 'commerce-supergraph';
export const TOKEN_TTL = '12h';

export class Tokens {
  readonly #key: Uint8Array;
  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  sign(viewer: Viewer, expiresIn: string | number = TOKEN_TTL): Promise<string> {
    return new SignJWT({ role: viewer.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(viewer.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.#key);
  }

  /** A short-lived token with which one service calls another's internal operations. */
  signService(service: string): Promise<string> {
    return this.sign({ id: service, role: 'SERVICE' }, '5m');
  }

  /** The viewer a token names; throws UNAUTHENTICATED for a forged, malformed or expired token. */
  async verify(token: string): Promise<Viewer> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || (role !== 'CUSTOMER' && role !== 'ADMIN' && role !== 'SERVICE')) {
        throw unauthenticated('invalid token');
      }
      return { id: payload.sub, role };
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
