// Where the project's files live, independent of the current directory.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ServiceName } from './services.js';

/** The nearest folder above `dir` with a package.json: the project root, from lib/ or from a build in .cache/. */
function projectRoot(dir: string): string {
  for (let at = dir; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, 'package.json'))) return at;
    if (path.dirname(at) === at) return path.resolve(dir, '..');
  }
}

export const ROOT = projectRoot(path.dirname(fileURLToPath(import.meta.url)));
export const prismaDir = (name: ServiceName) => path.join(ROOT, 'prisma', name);
export const schemaPath = (name: ServiceName) => path.join(prismaDir(name), 'schema.prisma');
export const migrationsDir = (name: ServiceName) => path.join(prismaDir(name), 'migrations');
export const subgraphSchemaPath = (name: ServiceName) => path.join(ROOT, 'subgraphs', name, 'schema.graphql');
export const SUPERGRAPH_FILE = 'supergraph.graphql';
export const SUPERGRAPH_PATH = path.join(ROOT, SUPERGRAPH_FILE);

// The embedded databases' templates (lib/data/pglite.ts) are only valid for the PGlite (PostgreSQL)
// version that made them, so its version is in their names.
let pgliteVersion: string | undefined;
/** Where the embedded databases' template `key` is kept (with `.tar.gz` added: its tarball). */
export function pgliteTemplatePath(key: string): string {
  if (!pgliteVersion) {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const packageJson = path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json');
    pgliteVersion = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  }
  return path.join(ROOT, '.cache', `pglite-${pgliteVersion}-${key}`);
}
