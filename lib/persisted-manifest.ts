// The persisted-operation manifest's format (Apollo's), shared by the gateway, which reads it to
// decide which operations run (gateway/features/trusted-documents.ts), and the tooling that builds
// and checks it (tools/schema-check/persisted-manifest.ts): runtime code never imports tools/.
import { createHash } from 'node:crypto';

/** Where the committed manifest lives, from the repository root. */
export const MANIFEST_FILE = 'operations/persisted-query-manifest.json';

export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

/** An operation's id: the SHA-256 of its body, so a client's APQ hash and the manifest id are the same string. */
export const operationId = (body: string) => createHash('sha256').update(body).digest('hex');
