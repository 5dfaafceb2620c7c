// Requests as clients of persisted operations send them: by id (APQ's extensions.persistedQuery),
// by POST or by GET, with the ids of the committed manifest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE, type PersistedQueryManifest } from '../../lib/persisted-manifest.js';

export const manifest = JSON.parse(readFileSync(path.join(ROOT, MANIFEST_FILE), 'utf8')) as PersistedQueryManifest;

/** The committed manifest's entry for an operation. */
export function persisted(name: string) {
  const entry = manifest.operations.find((o) => o.name === name);
  if (!entry) throw new Error(`${name} is not in ${MANIFEST_FILE}`);
  return entry;
}

export const byHash = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

export { bearer, send, type OperationRequest } from './http.js';
