// Requests as clients of persisted operations send them: by id (APQ's extensions.persistedQuery),
// by POST or by GET, with the ids of the committed manifest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE, type PersistedQueryManifest } from '../../lib/persisted-manifest.js';
import type { GraphQLResponse, HttpResult } from './harness.js';

export const manifest = JSON.parse(readFileSync(path.join(ROOT, MANIFEST_FILE), 'utf8')) as PersistedQueryManifest;

/** The committed manifest's entry for an operation. */
export function persisted(name: string) {
  const entry = manifest.operations.find((o) => o.name === name);
  if (!entry) throw new Error(`${name} is not in ${MANIFEST_FILE}`);
  return entry;
}

export const byHash = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

export interface OperationRequest {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** Sends a GraphQL request by POST (JSON body) or GET (query string), with the given headers. */
export async function send<T = Record<string, any>>(
  url: string,
  request: OperationRequest,
  { method = 'POST', headers = {} }: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  let response: Response;
  if (method === 'GET') {
    const target = new URL(url);
    for (const [key, value] of Object.entries(request)) {
      if (value !== undefined) target.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    response = await fetch(target, { headers });
  } else {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(request) });
  }
  const text = await response.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    body = { errors: [{ message: text }] };
  }
  return { status: response.status, headers: response.headers, ...body };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
