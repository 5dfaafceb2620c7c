// Applies and writes a subgraph's migrations, kept in Prisma's standard `prisma/<name>/migrations`
// layout, so that `prisma migrate deploy` on a machine with the native engine agrees with them.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { migrationsDir, schemaPath } from '../paths.js';
import type { Template } from './pglite.js';
import { NO_FILTERS, openSchemaEngine } from './schema-engine.js';
import type { ServiceName } from '../services.js';

const LOCKFILE = 'migration_lock.toml';

async function readMigrationList(name: ServiceName): Promise<MigrationList> {
  const baseDir = migrationsDir(name);
  const entries = existsSync(baseDir) ? await readdir(baseDir, { withFileTypes: true }) : [];
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lockPath = path.join(baseDir, LOCKFILE);
  return {
    baseDir,
    lockfile: { path: LOCKFILE, content: existsSync(lockPath) ? await readFile(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      folders.map(async (folder) => ({
        path: folder,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(path.join(baseDir, folder, 'migration.sql'), 'utf8') },
        },
      })),
    ),
  };
}

/**
 * Whether every migration folder of `name` is recorded as applied in Prisma's ledger
 * (`_prisma_migrations`), read with a plain query. False when unsure (no ledger yet): the schema
 * engine then decides, and also checks what this does not (checksums, failed migrations).
 */
export async function migrationsUpToDate(name: ServiceName, query: (sql: string) => Promise<unknown>): Promise<boolean> {
  const { migrationDirectories } = await readMigrationList(name);
  try {
    const rows = (await query(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    )) as { migration_name: string }[];
    const applied = new Set(rows.map((r) => r.migration_name));
    const failed = (await query('SELECT 1 FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL')) as unknown[];
    return failed.length === 0 && migrationDirectories.every((m) => applied.has(m.path));
  } catch {
    return false;
  }
}

/**
 * A new embedded database of `name` with every committed migration applied, copied from a template
 * that the schema engine migrated once (lib/data/pglite.ts); its key is a digest of the migrations, so
 * a new or edited migration makes a new template.
 */
export async function migratedTemplate(name: ServiceName): Promise<Template> {
  const { migrationDirectories } = await readMigrationList(name);
  const digest = createHash('sha256');
  for (const m of migrationDirectories) digest.update(`${m.path}\0${m.migrationFile.content.tag === 'ok' ? m.migrationFile.content.value : ''}\0`);
  return { key: `${name}-${digest.digest('hex').slice(0, 16)}`, prepare: async (db) => void (await applyMigrations(name, new PrismaPGlite(db))) };
}

/** Applies the pending migrations of `name` to the database behind `adapter`; returns their names. */
export async function applyMigrations(name: ServiceName, adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  const engine = await openSchemaEngine(schemaPath(name), adapter);
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({
      migrationsList: await readMigrationList(name),
      filters: NO_FILTERS,
    });
    return appliedMigrationNames;
  } finally {
    engine.free();
  }
}

/**
 * Writes the SQL that takes the database from the committed migrations to the current
 * `schema.prisma` as a new migration folder. Runs against throw-away in-memory databases, so it
 * needs no server. Returns the folder, or null when the schema has not changed.
 */
export async function createMigration(name: ServiceName, label: string): Promise<string | null> {
  const migrations = await readMigrationList(name);
  const file = schemaPath(name);
  const scratch = new PGlite();
  const engine = await openSchemaEngine(file, new PrismaPGlite(scratch));
  try {
    const from = migrations.migrationDirectories.length > 0 ? { tag: 'migrations' as const, ...migrations } : { tag: 'empty' as const };
    const result = await engine.diff({
      from,
      to: { tag: 'schemaDatamodel', files: [{ path: file, content: await readFile(file, 'utf8') }] },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    });
    if (result.exitCode !== 2 || !result.stdout) return null;
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const folder = path.join(migrations.baseDir, `${stamp}_${label.replace(/\W+/g, '_').toLowerCase()}`);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'migration.sql'), result.stdout);
    const lockPath = path.join(migrations.baseDir, LOCKFILE);
    if (!existsSync(lockPath)) {
      await writeFile(lockPath, '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n');
    }
    return folder;
  } finally {
    engine.free();
    await scratch.close();
  }
}
