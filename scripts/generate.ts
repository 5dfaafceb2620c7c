// `npm run generate`: the Prisma client of every subgraph database, the resolver types of every
// subgraph schema and the typed client operations (operations/**/*.graphql), offline. `npm start` and `npm test` run it first; it does nothing when none of its
// inputs changed since the last run (a fingerprint of them is kept in .cache/), so a later start
// does not pay for it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { prismaDir, ROOT, schemaPath, subgraphSchemaPath, SUPERGRAPH_PATH } from '../lib/paths.js';
import { SERVICE_NAMES } from '../lib/services.js';

const require = createRequire(import.meta.url);
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(process.execPath, [require.resolve(script), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env });

// Resolver types are needed only to type-check, and the code generator is a development tool:
// an install without dev dependencies (a slim production image) runs without them.
/** operations/<client>/*.graphql, sorted so that the fingerprint does not depend on directory order. */
function clientOperationFiles(): string[] {
  const dir = path.join(ROOT, 'operations');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => path.join(dir, file));
}

const hasCodegen = (() => {
  try {
    require.resolve('@graphql-codegen/cli');
    return true;
  } catch {
    return false;
  }
})();

const inputs = [
  ...SERVICE_NAMES.flatMap((name) => [schemaPath(name), subgraphSchemaPath(name)]),
  path.join(ROOT, 'codegen.ts'),
  path.join(ROOT, 'package-lock.json'),
  path.join(ROOT, 'scripts', 'generate.ts'),
  SUPERGRAPH_PATH,
  ...clientOperationFiles(),
];
const outputs = [
  ...SERVICE_NAMES.flatMap((name) => [
    path.join(prismaDir(name), 'generated', 'client.ts'),
    ...(hasCodegen ? [path.join(ROOT, 'subgraphs', name, 'generated', 'graphql.ts')] : []),
  ]),
  ...(hasCodegen ? [path.join(ROOT, 'clients', 'generated', 'graphql.ts'), path.join(ROOT, '.cache', 'api-schema.graphql')] : []),
];
const fingerprint = createHash('sha256');
for (const file of inputs) fingerprint.update(file).update(existsSync(file) ? readFileSync(file) : '');
fingerprint.update(hasCodegen ? 'with resolver types' : 'without resolver types');
const digest = fingerprint.digest('hex');
const stamp = path.join(ROOT, '.cache', 'generate.sha256');

if (process.argv.includes('--force') || !outputs.every(existsSync) || (existsSync(stamp) && readFileSync(stamp, 'utf8')) !== digest) {
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
  if (hasCodegen) {
    const codegen = await import('@graphql-codegen/cli');
    const { default: config, API_SCHEMA_PATH } = await import('../codegen.js');
    // Client operations are typed against what clients see: the supergraph's API schema.
    const { apiSchemaOf } = await import('../lib/schema-check/api-schema.js');
    const { printSchema } = await import('graphql');
    mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
    writeFileSync(path.join(ROOT, API_SCHEMA_PATH), printSchema(apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8'))));
    process.chdir(ROOT); // codegen.ts names files relative to the project root
    await codegen.generate(config, true);
    console.log('generated the resolver types of every subgraph and the typed client operations');
  }
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, digest);
}
