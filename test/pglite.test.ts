// The embedded databases start from a template data directory (lib/pglite.ts): new ones, made at
// once on disk and in memory, are independent and empty, and a database on disk keeps its data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPGlite } from '../lib/pglite.js';

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
});
