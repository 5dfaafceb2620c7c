// Prisma's own schema engine, compiled to WebAssembly, driven through a driver adapter. It applies
// and writes migrations in Prisma's standard layout (and keeps the `_prisma_migrations` ledger)
// without the native engine binary that the Prisma CLI would download.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';

// Node's WebAssembly global, typed as far as used here (the Node 20 typings leave it out).
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

const require = createRequire(import.meta.url);
let instantiated: Promise<typeof import('@prisma/schema-engine-wasm')> | undefined;

/** Instantiates the wasm module once per process (the package's own entry needs `--experimental-wasm-modules`). */
function loadBindings() {
  instantiated ??= (async () => {
    const wasmPath = require.resolve('@prisma/schema-engine-wasm').replace(/schema_engine\.js$/, 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': bindings,
    });
    const glue = bindings as unknown as { __wbg_set_wasm(exports: Record<string, unknown>): void };
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings as unknown as typeof import('@prisma/schema-engine-wasm');
  })();
  return instantiated;
}

export const NO_FILTERS = { externalTables: [], externalEnums: [] };

export async function openSchemaEngine(
  schemaFile: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadBindings();
  const datamodel = await readFile(schemaFile, 'utf8');
  const log = () => {};
  return SchemaEngine.new({ datamodels: [[schemaFile, datamodel]] }, log, bindMigrationAwareSqlAdapterFactory(adapterFactory));
}
