// Generates the Prisma client of every subgraph database, offline.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { SERVICE_NAMES } from '../lib/services.js';
import { schemaPath } from '../lib/paths.js';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');

for (const name of SERVICE_NAMES) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath(name)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    // `prisma generate` never runs the schema engine but insists that its binary exists; pointing
    // it at any existing file keeps it from trying to download one (there may be no internet).
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
  console.log(`generated the Prisma client of ${name}`);
}
