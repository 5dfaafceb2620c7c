// Where the project's files live, independent of the current directory.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ServiceName } from './services.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const prismaDir = (name: ServiceName) => path.join(ROOT, 'prisma', name);
export const schemaPath = (name: ServiceName) => path.join(prismaDir(name), 'schema.prisma');
export const migrationsDir = (name: ServiceName) => path.join(prismaDir(name), 'migrations');
export const subgraphSchemaPath = (name: ServiceName) => path.join(ROOT, 'subgraphs', name, 'schema.graphql');
export const SUPERGRAPH_FILE = 'supergraph.graphql';
export const SUPERGRAPH_PATH = path.join(ROOT, SUPERGRAPH_FILE);
