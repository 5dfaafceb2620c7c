// Opens the embedded PGlite databases. A new PGlite database costs an initdb, and migrating it runs
// Prisma's schema engine: seconds of CPU in WebAssembly each. So every new one starts instead from a
// template made once per machine and kept in .cache/, either empty or already prepared (a
// subgraph's migrations applied; its key names what went in): made in memory and kept as a tarball,
// which databases in memory load, and unpacked once as a folder, which a database on disk is a
// plain copy of (a file copy, far cheaper than unpacking a tarball through PGlite's WebAssembly file
// system). Processes starting at once make each template once between them (a lock file decides who).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { ROOT } from './paths.js';

const require = createRequire(import.meta.url);
// The templates are only valid for the PGlite (PostgreSQL) version that made them.
const entry = require.resolve('@electric-sql/pglite');
const { version } = JSON.parse(readFileSync(path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json'), 'utf8')) as { version: string };
const templatePath = (key: string) => path.join(ROOT, '.cache', `pglite-${version}-${key}`);
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

/** What a new database holds before it is handed out; `key` changes whenever `prepare` would do something else. */
export interface Template {
  key: string;
  prepare(db: PGlite): Promise<void>;
}

const EMPTY: Template = { key: 'empty', prepare: async () => {} };

const run = promisify(execFile);
const tarballPath = (template: Template) => `${templatePath(template.key)}.tar.gz`;

/**
 * The template as a tarball (what PGlite's loadDataDir reads), made in memory: an initdb on disk
 * costs more than twice the CPU of one in memory (every file written through the WebAssembly file
 * system, synced). A prepared template starts from the empty one's tarball, so a machine pays for
 * one initdb in all. Undefined when it cannot be made or stored.
 */
const tarballs = new Map<string, Promise<Blob | undefined>>();
function templateTarball(template: Template): Promise<Blob | undefined> {
  let tarball = tarballs.get(template.key);
  if (!tarball) {
    const file = tarballPath(template);
    tarball = (async () => {
      const made = await once(file, async (partial) => {
        const base = template === EMPTY ? undefined : await templateTarball(EMPTY);
        const fresh = await PGlite.create({ ...(base ? { loadDataDir: base } : {}), startParams: START_PARAMS });
        try {
          await template.prepare(fresh);
          await writeFile(partial, Buffer.from(await (await fresh.dumpDataDir('gzip')).arrayBuffer()));
        } finally {
          await fresh.close();
        }
      });
      return made ? new Blob([await readFile(file)]) : undefined;
    })().catch(() => undefined);
    tarballs.set(template.key, tarball);
  }
  return tarball;
}

/** The template as a folder, unpacked from its tarball (the system's tar, else through PGlite). */
const templateDir = (template: Template) =>
  once(templatePath(template.key), async (partial) => {
    const tarball = await templateTarball(template);
    if (!tarball) throw new Error(`no template ${template.key}`);
    await mkdir(partial, { recursive: true });
    try {
      await run('tar', ['-xzf', tarballPath(template), '-C', partial]);
    } catch {
      await rm(partial, { recursive: true, force: true });
      const unpacked = await PGlite.create(partial, { loadDataDir: tarball, startParams: START_PARAMS });
      await unpacked.close(); // a clean shutdown: the folder can be copied as it is
    }
  });

/**
 * The system's `cp -R` copies the template's thousand files in a twentieth of a second, where
 * Node's fs.cp spends most of a second of CPU; fs.cp remains where there is no `cp` (Windows).
 */
async function copyFolder(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-R', from, to]);
  } catch {
    await rm(to, { recursive: true, force: true });
    await cp(from, to, { recursive: true });
  }
}

/** Copies the template to `dir` (absent or an empty folder); false when there is no template. */
async function copyTemplate(dir: string, template: Template): Promise<boolean> {
  if (!(await templateDir(template).catch(() => false))) return false;
  const staging = `${dir}.${process.pid}.partial`;
  await rm(staging, { recursive: true, force: true });
  await copyFolder(templatePath(template.key), staging);
  if (existsSync(dir) && readdirSync(dir).length === 0) await rm(dir, { recursive: true });
  await rename(staging, dir);
  return true;
}

/**
 * The embedded database in `dir` (created from `template` if new), or a fresh one in memory without
 * a folder. A database made without a usable template (a read-only checkout, say) is simply made
 * from scratch and prepared here.
 */
export async function openPGlite(dir?: string, template: Template = EMPTY): Promise<PGlite> {
  if (dir && existsSync(path.join(dir, 'PG_VERSION'))) return PGlite.create(dir, { startParams: START_PARAMS });
  if (dir) {
    await mkdir(path.dirname(dir), { recursive: true });
    if (await copyTemplate(dir, template).catch(() => false)) return PGlite.create(dir, { startParams: START_PARAMS });
    await mkdir(dir, { recursive: true });
  }
  const loadDataDir = await templateTarball(template);
  if (loadDataDir) return PGlite.create(dir, { loadDataDir, startParams: START_PARAMS });
  const db = await PGlite.create(dir, { startParams: START_PARAMS });
  await template.prepare(db);
  return db;
}
