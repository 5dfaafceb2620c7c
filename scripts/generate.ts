// `npm run generate`: the Prisma client of every subgraph database and the resolver types of every
// subgraph schema, offline. `npm start` and `npm test` run it first.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT, schemaPath } from '../lib/paths.js';
import { SERVICE_NAMES } from '../lib/services.js';

const require = createRequire(import.meta.url);
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(process.execPath, [require.resolve(script), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env });

for (const name of SERVICE_NAMES) {
  // `prisma generate` never runs the schema engine but insists that its binary exists; pointing
  // it at any existing file keeps it from trying to download one (there may be no internet).
  run('prisma/build/index.js', ['generate', '--schema', schemaPath(name)], {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  });
}
console.log(`generated the Prisma clients of ${SERVICE_NAMES.join(', ')}`);

// Resolver types are needed only to type-check, and the code generator is a development tool:
// an install without dev dependencies (a slim production image) runs without them.
const codegen = await import('@graphql-codegen/cli').catch(() => null);
if (codegen) {
  const { default: config } = await import('../codegen.js');
  process.chdir(ROOT); // codegen.ts names files relative to the project root
  await codegen.generate(config, true);
  console.log('generated the resolver types of every subgraph');
}
