// `npm run operations:manifest`: rewrites operations/persisted-query-manifest.json from operations/.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/paths.js';
import { MANIFEST_FILE } from '../lib/persisted-manifest.js';
import { buildManifest, manifestText } from '../tools/schema-check/persisted-manifest.js';

const manifest = buildManifest(ROOT);
writeFileSync(path.join(ROOT, MANIFEST_FILE), manifestText(manifest));
console.log(`wrote ${MANIFEST_FILE}: ${manifest.operations.length} operations`);
