// The committed migrations are the schema: they apply cleanly, keep Prisma's ledger, and agree
// with every schema.prisma (a model changed without a migration fails here).
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { describe, expect, it } from 'vitest';
import { applyMigrations, createMigration, migrationsUpToDate } from '../../lib/data/migrations.js';
import { openPGlite } from '../../lib/data/pglite.js';
import { SERVICE_NAMES } from '../../lib/services.js';

describe.each(SERVICE_NAMES)('migrations of %s', (name) => {
  it('apply once and record themselves in _prisma_migrations', async () => {
    const pglite = await openPGlite();
    const adapter = new PrismaPGlite(pglite);
    const upToDate = async () => migrationsUpToDate(name, async (sql) => (await pglite.query(sql)).rows);
    expect(await upToDate()).toBe(false);
    const applied = await applyMigrations(name, adapter);
    expect(await upToDate()).toBe(true);
    expect(applied.length).toBeGreaterThan(0);
    expect(await applyMigrations(name, adapter)).toEqual([]);
    const ledger = await pglite.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM _prisma_migrations');
    expect(ledger.rows.map((r) => r.migration_name)).toEqual(applied);
    expect(ledger.rows.every((r) => r.finished_at !== null)).toBe(true);
    // A warm start skips the schema engine only while the ledger holds every migration folder.
    await pglite.query('DELETE FROM _prisma_migrations WHERE migration_name = $1', [applied.at(-1)]);
    expect(await upToDate()).toBe(false);
    await pglite.close();
  });

  it('leave nothing for migrate:create to write', async () => {
    expect(await createMigration(name, 'drift')).toBeNull();
  });
});
