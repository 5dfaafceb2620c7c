// `npm run generate`: the Prisma client of every subgraph database, the resolver types of every
// subgraph schema and the typed client operations (operations/**/*.graphql), offline. `npm test`
// runs it first; `npm start` runs the parts it needs (the Prisma clients, and the typed operations
// when it builds the web shop: the resolver types only serve the type-check). Each part does nothing
// when none of its inputs changed since it last ran (a fingerprint of them is kept in .cache/), so a
// later start does not pay for it; the four Prisma clients are generated side by side.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { prismaDir, ROOT, schemaPath, subgraphSchemaPath, SUPERGRAPH_PATH } from '../lib/paths.js';
import { SERVICE_NAMES } from '../lib/services.js';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

// Resolver types are needed only to type-check, and the code generator is a development tool:
// an install without dev dependencies (a slim production image) runs without them.
const hasCodegen = (() => {
  try {
    require.resolve('@graphql-codegen/cli');
    return true;
  } catch {
    return false;
  }
})();

/** operations/<client>/*.graphql, sorted so that the fingerprint does not depend on directory order. */
function clientOperationFiles(): string[] {
  const dir = path.join(ROOT, 'operations');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => path.join(dir, file));
}

const common = [path.join(ROOT, 'package-lock.json'), path.join(ROOT, 'scripts', 'generate.ts')];

/** Runs `make` unless the fingerprint of `inputs` is the one it last ran with and `outputs` exist. */
async function unlessUnchanged(part: string, inputs: string[], outputs: string[], force: boolean, make: () => Promise<void>) {
  const fingerprint = createHash('sha256');
  for (const file of inputs) fingerprint.update(file).update(existsSync(file) ? readFileSync(file) : '');
  const digest = fingerprint.digest('hex');
  const stamp = path.join(ROOT, '.cache', `generate-${part}.sha256`);
  if (!force && outputs.every(existsSync) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  await make();
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, digest);
}

const prismaClients = (force: boolean) =>
  unlessUnchanged(
    'clients',
    [...SERVICE_NAMES.map(schemaPath), ...common],
    SERVICE_NAMES.map((name) => path.join(prismaDir(name), 'generated', 'client.ts')),
    force,
    async () => {
      await Promise.all(
        SERVICE_NAMES.map(async (name) => {
          // `prisma generate` never runs the schema engine but insists that its binary exists; pointing
          // it at any existing file keeps it from trying to download one (there may be no internet).
          const child = execFileAsync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate', '--schema', schemaPath(name)], {
            cwd: ROOT,
            env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
          });
          child.child.stdin?.end();
          try {
            await child;
          } catch (err) {
            const stderr = (err as { stderr?: string }).stderr;
            throw new Error(`prisma generate failed for ${name}${stderr ? `:\n${stderr}` : ''}`, { cause: err });
          }
        }),
      );
      console.log(`generated the Prisma clients of ${SERVICE_NAMES.join(', ')}`);
    },
  );

/** Runs the code generator on codegen.ts's typed client operations, or on all its other outputs (the resolver types). */
async function runCodegen(part: 'resolvers' | 'operations') {
  const codegen = await import('@graphql-codegen/cli');
  const { default: config, CLIENT_OPERATIONS_DIR } = await import('../codegen.js');
  const generates = Object.fromEntries(Object.entries(config.generates).filter(([output]) => (output === CLIENT_OPERATIONS_DIR) === (part === 'operations')));
  process.chdir(ROOT); // codegen.ts names files relative to the project root
  await codegen.generate({ ...config, generates }, true);
}

const resolverTypes = (force: boolean) =>
  unlessUnchanged(
    'types',
    [...SERVICE_NAMES.map(subgraphSchemaPath), path.join(ROOT, 'codegen.ts'), ...common],
    SERVICE_NAMES.map((name) => path.join(ROOT, 'subgraphs', name, 'generated', 'graphql.ts')),
    force,
    async () => {
      await runCodegen('resolvers');
      console.log('generated the resolver types of every subgraph');
    },
  );

/** The typed client operations and the API schema they follow; the web shop's build imports them. */
export const clientOperations = (force = false) =>
  unlessUnchanged(
    'operations',
    [path.join(ROOT, 'codegen.ts'), SUPERGRAPH_PATH, ...clientOperationFiles(), ...common],
    [path.join(ROOT, 'clients', 'generated', 'graphql.ts'), path.join(ROOT, '.cache', 'api-schema.graphql')],
    force,
    async () => {
      const { API_SCHEMA_PATH } = await import('../codegen.js');
      // Client operations are typed against what clients see: the supergraph's API schema.
      const { apiSchemaOf } = await import('../tools/schema-check/api-schema.js');
      const { printSchema } = await import('graphql');
      mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
      writeFileSync(path.join(ROOT, API_SCHEMA_PATH), printSchema(apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8'))));
      await runCodegen('operations');
      console.log('generated the typed client operations');
    },
  );

/**
 * Generates what is out of date: the Prisma clients, and with `types` the resolver types and the
 * typed client operations; `force` even when their inputs did not change.
 */
export async function generate({ types, force = false }: { types: boolean; force?: boolean }): Promise<void> {
  await Promise.all([prismaClients(force), ...(types && hasCodegen ? [resolverTypes(force), clientOperations(force)] : [])]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await generate({ types: true, force: process.argv.includes('--force') });
}
