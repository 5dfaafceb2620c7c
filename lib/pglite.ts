// Opens the embedded PGlite databases. A new PGlite database costs an initdb, seconds of CPU in
// WebAssembly; so every new one (on disk or in memory) starts instead from an empty data directory
// made once per machine and kept as a tarball in .cache/, which loads in a fraction of that time.
// Four subgraphs starting at once make one template between them (a lock file decides who).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ROOT } from './paths.js';

const require = createRequire(import.meta.url);
// The template is only valid for the PGlite (PostgreSQL) version that made it.
const entry = require.resolve('@electric-sql/pglite');
const { version } = JSON.parse(readFileSync(path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json'), 'utf8')) as { version: string };
const TEMPLATE = path.join(ROOT, '.cache', `pglite-${version}-empty.tar.gz`);
const LOCK = `${TEMPLATE}.lock`;
/** A lock older than this belongs to a process that died while making the template. */
const STALE_LOCK_MS = 120_000;

let template: Promise<Blob | undefined> | undefined;

async function makeTemplate(): Promise<void> {
  const fresh = await PGlite.create();
  try {
    const tarball = await fresh.dumpDataDir('gzip');
    const partial = `${TEMPLATE}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
    await rename(partial, TEMPLATE); // readers never see half a file
  } finally {
    await fresh.close();
  }
}

async function loadTemplate(): Promise<Blob | undefined> {
  await mkdir(path.dirname(TEMPLATE), { recursive: true });
  const deadline = Date.now() + STALE_LOCK_MS;
  while (!existsSync(TEMPLATE)) {
    const lock = await open(LOCK, 'wx').catch(() => undefined);
    if (lock) {
      try {
        if (!existsSync(TEMPLATE)) await makeTemplate();
      } finally {
        await lock.close();
        await rm(LOCK, { force: true });
      }
      break;
    }
    // Another process is making it; take over only from one that died.
    const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_LOCK_MS) await rm(LOCK, { force: true });
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return new Blob([await readFile(TEMPLATE)]);
}

/** The embedded database in `dir` (created if new), or a fresh one in memory without a folder. */
export async function openPGlite(dir?: string): Promise<PGlite> {
  if (dir && existsSync(path.join(dir, 'PG_VERSION'))) return PGlite.create(dir);
  // Without a usable template (a read-only checkout, say) a database is simply made from scratch.
  template ??= loadTemplate().catch(() => undefined);
  const loadDataDir = await template;
  if (dir) await mkdir(dir, { recursive: true });
  return PGlite.create(dir, loadDataDir ? { loadDataDir } : {});
}
