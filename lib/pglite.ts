// Opens the embedded PGlite databases. A new PGlite database costs an initdb, seconds of CPU in
// WebAssembly; so every new one starts instead from an empty data directory made once per machine
// and kept in .cache/: a database on disk is a plain copy of the template folder (a file copy,
// far cheaper than unpacking a tarball through PGlite's WebAssembly file system); one in memory
// loads the template as a tarball. Processes starting at once make each template once between them
// (a lock file decides who).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { ROOT } from './paths.js';

const require = createRequire(import.meta.url);
// The templates are only valid for the PGlite (PostgreSQL) version that made them.
const entry = require.resolve('@electric-sql/pglite');
const { version } = JSON.parse(readFileSync(path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json'), 'utf8')) as { version: string };
const TEMPLATE_DIR = path.join(ROOT, '.cache', `pglite-${version}-empty`);
const TEMPLATE_TARBALL = `${TEMPLATE_DIR}.tar.gz`;
/** A lock older than this belongs to a process that died while making the template. */
const STALE_LOCK_MS = 120_000;

// PostgreSQL's default 128 MB of shared buffers is memory the WebAssembly build clears on every
// start (about a third of a second of CPU per process); 32 MB holds the demo databases many times.
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

/** Makes `target` with `make(partial)` unless it exists; one process at a time, readers never see half of it. */
async function once(target: string, make: (partial: string) => Promise<void>): Promise<boolean> {
  await mkdir(path.dirname(target), { recursive: true });
  const lockFile = `${target}.lock`;
  const deadline = Date.now() + STALE_LOCK_MS;
  while (!existsSync(target)) {
    const lock = await open(lockFile, 'wx').catch(() => undefined);
    if (lock) {
      try {
        if (!existsSync(target)) {
          const partial = `${target}.${process.pid}.partial`;
          await rm(partial, { recursive: true, force: true });
          await make(partial);
          await rename(partial, target);
        }
      } finally {
        await lock.close();
        await rm(lockFile, { force: true });
      }
      break;
    }
    // Another process is making it; take over only from one that died.
    const age = await stat(lockFile).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_LOCK_MS) await rm(lockFile, { force: true });
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const templateDir = () =>
  once(TEMPLATE_DIR, async (partial) => {
    const fresh = await PGlite.create(partial, { startParams: START_PARAMS });
    await fresh.close(); // a clean shutdown: the folder can be copied as it is
  });

let tarball: Promise<Blob | undefined> | undefined;
const templateTarball = () =>
  (tarball ??= (async () => {
    const made = await once(TEMPLATE_TARBALL, async (partial) => {
      const fresh = await PGlite.create({ startParams: START_PARAMS });
      try {
        await writeFile(partial, Buffer.from(await (await fresh.dumpDataDir('gzip')).arrayBuffer()));
      } finally {
        await fresh.close();
      }
    });
    return made ? new Blob([await readFile(TEMPLATE_TARBALL)]) : undefined;
  })().catch(() => undefined));

/** Copies the empty template to `dir` (absent or an empty folder); false when there is no template. */
async function copyTemplate(dir: string): Promise<boolean> {
  if (!(await templateDir().catch(() => false))) return false;
  const staging = `${dir}.${process.pid}.partial`;
  await rm(staging, { recursive: true, force: true });
  await cp(TEMPLATE_DIR, staging, { recursive: true });
  if (existsSync(dir) && readdirSync(dir).length === 0) await rm(dir, { recursive: true });
  await rename(staging, dir);
  return true;
}

/** The embedded database in `dir` (created if new), or a fresh one in memory without a folder. */
export async function openPGlite(dir?: string): Promise<PGlite> {
  if (dir && existsSync(path.join(dir, 'PG_VERSION'))) return PGlite.create(dir, { startParams: START_PARAMS });
  if (dir) {
    await mkdir(path.dirname(dir), { recursive: true });
    if (await copyTemplate(dir).catch(() => false)) return PGlite.create(dir, { startParams: START_PARAMS });
    await mkdir(dir, { recursive: true });
  }
  // Without a usable template (a read-only checkout, say) a database is simply made from scratch.
  const loadDataDir = await templateTarball();
  return PGlite.create(dir, loadDataDir ? { loadDataDir, startParams: START_PARAMS } : { startParams: START_PARAMS });
}
