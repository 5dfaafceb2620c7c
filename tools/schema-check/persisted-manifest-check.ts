// The committed persisted-operation manifest must be what operations/ produce: a client ships the
// ids in it, and the gateway (OPERATIONS=manifest) accepts nothing else.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, type ManifestOperation, type PersistedQueryManifest } from '../../lib/persisted-manifest.js';
import { buildManifest } from './persisted-manifest.js';

export interface ManifestCheck {
  ok: boolean;
  summary: string;
  details: string[];
}

const REGENERATE = 'run `npm run operations:manifest` and commit it';

export function checkManifest(root: string): ManifestCheck {
  let expected: PersistedQueryManifest;
  try {
    expected = buildManifest(root);
  } catch (err) {
    return { ok: false, summary: `operations/ cannot be persisted: ${(err as Error).message}`, details: [] };
  }
  let committed: PersistedQueryManifest;
  try {
    committed = JSON.parse(readFileSync(path.join(root, MANIFEST_FILE), 'utf8')) as PersistedQueryManifest;
  } catch (err) {
    return { ok: false, summary: `${MANIFEST_FILE} is missing or not JSON: ${REGENERATE}`, details: [(err as Error).message] };
  }
  const byName = (ops: ManifestOperation[] | undefined) => new Map((ops ?? []).map((o) => [o.name, o]));
  const ours = byName(committed.operations);
  const theirs = byName(expected.operations);
  const details = [
    ...[...theirs.keys()].filter((n) => !ours.has(n)).map((n) => `missing   ${n}`),
    ...[...ours.keys()].filter((n) => !theirs.has(n)).map((n) => `extra     ${n} (no longer under operations/)`),
    ...[...theirs.values()].filter((o) => ours.has(o.name) && JSON.stringify(ours.get(o.name)) !== JSON.stringify(o)).map((o) => `changed   ${o.name}`),
  ];
  const sameFile = JSON.stringify(committed) === JSON.stringify(expected);
  if (sameFile) return { ok: true, summary: `${MANIFEST_FILE} matches operations/ (${expected.operations.length} operations)`, details: [] };
  return { ok: false, summary: `${MANIFEST_FILE} is stale: ${REGENERATE}`, details: details.length > 0 ? details : ['the format or the order differs'] };
}
