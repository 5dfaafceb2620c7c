// Trusted documents: which operations the gateway runs, by the OPERATIONS policy.
//   any        everything: free-form operations, APQ, the manifest's ids (development default);
//   persisted  operations named by hash only: the manifest's ids, and automatic persisted queries
//              (a client registers an operation by sending it with its hash, then sends the hash);
//   manifest   only the operations of operations/persisted-query-manifest.json, by id or by their
//              exact text (production default: the first-party clients' operations and no others).
// An administrator's token (role ADMIN) or the OPERATIONS_ADMIN_KEY header may still send any
// operation (Apollo Sandbox against a production gateway, support, monitoring).
//
// Admission is decided while the request context is built, before Apollo Server parses anything:
// a refused operation is neither parsed, validated (no schema hints for a stranger) nor executed.
// The manifest's ids are then served from the manifest itself, so they never depend on the APQ
// cache (per replica, emptied by a restart).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { Request } from 'express';
import { GraphQLError } from 'graphql';
import type { Viewer } from '../../lib/security/auth.js';
import type { TrustedDocumentsConfig } from '../../lib/config.js';
import type { PersistedQueryManifest } from '../../lib/persisted-manifest.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';

/** The header that carries OPERATIONS_ADMIN_KEY. */
export const OPERATIONS_KEY_HEADER = 'x-operations-key';

export const TrustedDocumentCode = {
  /** APQ's: the hash names no operation this gateway knows; send the operation with its hash. */
  NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** Under OPERATIONS=persisted: a free-form operation without its hash. */
  ID_REQUIRED: 'PERSISTED_QUERY_ID_REQUIRED',
  /** Under OPERATIONS=manifest: the operation is not one of the manifest's. */
  NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
} as const;

const refuse = (code: string, message: string, status: number) => new GraphQLError(message, { extensions: { code, http: { status } } });

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The manifest's bodies by id; a manifest that is not Apollo's format, or whose ids are not its bodies' hashes, is refused at start. */
export function readManifest(file: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as PersistedQueryManifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1 || !Array.isArray(manifest.operations)) {
    throw new Error(`${file} is not an Apollo persisted query manifest (format apollo-persisted-query-manifest, version 1)`);
  }
  const bodies = new Map<string, string>();
  for (const { id, name, body } of manifest.operations) {
    if (typeof body !== 'string' || sha256(body) !== id) throw new Error(`${file}: the id of ${name} is not the SHA-256 of its body; regenerate it with npm run operations:manifest`);
    bodies.set(id, body);
  }
  return bodies;
}

/** The operation text and the APQ hash a request carries, from the JSON body (POST) or the query string (GET). */
function operationOf(req: Request): { query: string | undefined; hash: string | undefined } {
  return operationIn(req.method === 'GET' ? (req.query as Record<string, unknown>) : ((req.body as Record<string, unknown> | undefined) ?? {}));
}

/** The operation text and the APQ hash of GraphQL request parameters (also a subscription's payload). */
export function operationIn(params: { query?: unknown; extensions?: unknown }): { query: string | undefined; hash: string | undefined } {
  let extensions = params.extensions;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      extensions = undefined; // Apollo Server answers a malformed request itself
    }
  }
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return {
    query: typeof params.query === 'string' && params.query !== '' ? params.query : undefined,
    hash: typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined,
  };
}

/** What the policy looks at: the operation's text and hash, and the sender's credentials. */
export interface OperationSent {
  query: string | undefined;
  hash: string | undefined;
  viewer: Viewer | null;
  /** The x-operations-key header, if sent. */
  operationsKey: string | undefined;
}

export interface TrustedDocuments extends GatewayFeature {
  /** Throws the refusal (with its code and HTTP status) when the policy does not let this request's operation run. */
  admit(req: Request, viewer: Viewer | null): void;
  /**
   * The same decision for an operation that arrives by another path (a subscription over
   * WebSocket): throws the refusal, else returns the text to run (undefined: an id nobody knows).
   */
  check(sent: OperationSent): string | undefined;
  /** The manifest's text for an id, whoever asks (what the policy lets run is `check`'s call). */
  bodyOf(hash: string): string | undefined;
  /** The manifest's ids served from the manifest (trustedDocumentsPlugin). */
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** Apollo Server's APQ setting: its cache registers operations, except under `manifest`, where nothing registers. */
  persistedQueries: ApolloServerOptions<GatewayContext>['persistedQueries'];
}

/** Serves the manifest's ids from the manifest; under `manifest`, turns Apollo Server's APQ off for what was admitted. */
function trustedDocumentsPlugin(bodies: Map<string, string>, policy: TrustedDocumentsConfig['policy']): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request }) {
      const persisted = request.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
      const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
      if (hash !== undefined && request.query === undefined) request.query = bodies.get(hash);
      // Apollo Server's APQ is off under `manifest`: what was admitted runs as its text.
      if (policy === 'manifest' && persisted) delete request.extensions!.persistedQuery;
    },
  };
}

/** The OPERATIONS policy as a gateway feature; `check` is for the subscription path (useSubscriptions' `admit`). */
export function useTrustedDocuments(config: TrustedDocumentsConfig): TrustedDocuments {
  const { policy } = config;
  const bodies = readManifest(config.manifestPath);
  const adminKey = config.adminKey === undefined ? undefined : createHash('sha256').update(config.adminKey).digest();
  // Compared as digests of equal length, in constant time.
  const holdsAdminKey = (sent: string | undefined) =>
    adminKey !== undefined && sent !== undefined && timingSafeEqual(createHash('sha256').update(sent).digest(), adminKey);

  const check = ({ query, hash, viewer, operationsKey }: OperationSent): string | undefined => {
    // The text to run: the manifest's for one of its ids, else what was sent.
    const body = (hash === undefined ? undefined : bodies.get(hash)) ?? query;
    if (policy === 'any') return body;
    // Nothing registers under `manifest`: an unknown id is final (hence 404, not APQ's 200), for
    // everyone; Apollo Client then sends the operation's text, which an administrator may.
    if (policy === 'manifest' && query === undefined && hash !== undefined && !bodies.has(hash)) {
      throw refuse(TrustedDocumentCode.NOT_FOUND, 'PersistedQueryNotFound', 404);
    }
    if (viewer?.role === 'ADMIN' || holdsAdminKey(operationsKey)) return body;
    if (policy === 'persisted') {
      if (query !== undefined && hash === undefined) {
        throw refuse(TrustedDocumentCode.ID_REQUIRED, 'this gateway runs operations sent by hash only (automatic persisted queries): send extensions.persistedQuery.sha256Hash', 400);
      }
      return body;
    }
    if (query !== undefined && !bodies.has(sha256(query))) {
      throw refuse(TrustedDocumentCode.NOT_IN_LIST, 'this operation is not in the persisted operation manifest: only the clients\' registered operations run here', 400);
    }
    return body;
  };

  return {
    check,
    bodyOf: (hash) => bodies.get(hash),
    admit(req, viewer) {
      // A batch (a JSON array) is admitted entry by entry by gateway/features/batching.ts, or
      // refused whole by Apollo Server when batching is off.
      if (req.method === 'POST' && Array.isArray(req.body)) return;
      const key = req.headers[OPERATIONS_KEY_HEADER];
      check({ ...operationOf(req), viewer, operationsKey: typeof key === 'string' ? key : undefined });
    },
    plugins: [trustedDocumentsPlugin(bodies, policy)],
    persistedQueries: policy === 'manifest' ? false : {},
  };
}
