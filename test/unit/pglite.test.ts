// The embedded databases start from a template data directory (lib/data/pglite.ts): new ones, made at
// once on disk and in memory, are independent and empty (or as their template prepared them), and
// a database on disk keeps its data.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { migratedTemplate, migrationsUpToDate } from '../../lib/data/migrations.js';
import { ROOT } from '../../lib/paths.js';
import { openPGlite, templateExists, type Template } from '../../lib/data/pglite.js';

describe('embedded databases', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('start empty and independent, several at once, and keep their data on disk', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pglite-'));
    const [a, b, memory] = await Promise.all([openPGlite(path.join(dir, 'a')), openPGlite(path.join(dir, 'b')), openPGlite()]);
    for (const db of [a, b, memory]) {
      expect((await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows).toEqual([{ n: 0 }]);
    }
    await a.exec('CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)');
    expect((await b.query(`SELECT to_regclass('kept') AS t`)).rows).toEqual([{ t: null }]);
    await Promise.all([a.close(), b.close(), memory.close()]);

    const reopened = await openPGlite(path.join(dir, 'a'));
    expect((await reopened.query('SELECT x FROM kept')).rows).toEqual([{ x: 42 }]);
    await reopened.close();
  });

  it('made from a prepared template: prepared once in each form, then copied, each copy its own', async () => {
    let prepared = 0;
    const key = `test-${randomUUID()}`;
    const template: Template = {
      key,
      prepare: async (db) => {
        prepared += 1;
        await db.exec('CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (1)');
      },
    };
    const base = await mkdtemp(path.join(tmpdir(), 'pglite-template-'));
    try {
      const [a, b] = [await openPGlite(path.join(base, 'a'), template), await openPGlite(path.join(base, 'b'), template)];
      const memory = await openPGlite(undefined, template);
      expect(prepared).toBe(2); // once for the folder (on disk), once for the tarball (in memory)
      expect(templateExists(template)).toBe(true);
      await a.exec('INSERT INTO seeded VALUES (2)');
      for (const [db, rows] of [[a, 2], [b, 1], [memory, 1]] as const) {
        expect((await db.query('SELECT count(*)::int AS n FROM seeded')).rows).toEqual([{ n: rows }]);
      }
      await Promise.all([a.close(), b.close(), memory.close()]);
    } finally {
      await rm(base, { recursive: true, force: true });
      for (const made of (await readdir(path.join(ROOT, '.cache'))).filter((f) => f.includes(key))) {
        await rm(path.join(ROOT, '.cache', made), { recursive: true, force: true });
      }
    }
  });

  it('of a subgraph start with its migrations applied', async () => {
    const db = await openPGlite(undefined, await migratedTemplate('orders'));
    expect(await migrationsUpToDate('orders', async (sql) => (await db.query(sql)).rows)).toBe(true);
    await db.close();
  });
});
