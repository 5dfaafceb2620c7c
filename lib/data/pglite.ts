// Opens the embedded PGlite databases. A new PGlite database costs an initdb (seconds of CPU in
// WebAssembly), and migrating it runs Prisma's schema engine. So every new one starts instead from a
// template kept in .cache/, either empty or prepared (a subgraph's migrations applied; its key names
// what went in), made once per machine. The empty one is made in memory (an initdb on disk costs
// twice the CPU) and kept as a tarball, unpacked once as a folder; a prepared one is a copy of the
// empty folder, opened and prepared on disk. A new database on disk is a plain copy of its folder
// (far cheaper than unpacking a tarball through PGlite's WebAssembly file system); one in memory
// loads a tarball, which for a prepared template is made in memory too, only when first asked for.
// Processes starting at once make each template once between them (a lock file decides who).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { pgliteTemplatePath as templatePath } from '../paths.js';

/** A lock older than this belongs to a process that died while making the template. */
const STALE_LOCK_MS = 120_000;

// PostgreSQL's default 128 MB of shared buffers is memory the WebAssembly build clears on every
// start (about a third of a second of CPU per process); 32 MB holds the demo databases many times.
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

// PostgreSQL's start runs much of its WebAssembly a few times; at V8's default tiering budget, the
// optimising compiler then compiles it in the background for code that rarely runs again: a third
// of a second of CPU per process. Ten times the budget still optimises what runs hot: a thousand
// queries ran as fast. Set when the first database opens, so that a process without one keeps V8's
// defaults.
let tiering = false;

/** PGlite.create with this module's start parameters (`dataDir` undefined: in memory). */
function create(dataDir: string | undefined, options: { loadDataDir?: Blob } = {}): Promise<PGlite> {
  if (!tiering) {
    v8.setFlagsFromString('--wasm-tiering-budget=18000000');
    tiering = true;
  }
  return PGlite.create(dataDir, { ...options, startParams: START_PARAMS });
}

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

const EMPTY: Template = { key: 'empty', prepare: async () => {} }; // scripts/start.ts names it too

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
        const fresh = await create(undefined, base ? { loadDataDir: base } : {});
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

/**
 * The template as a folder: the empty one unpacked from its tarball (the system's tar, else through
 * PGlite), a prepared one made on disk from a copy of the empty one and closed cleanly, so that the
 * folder can be copied as it is.
 */
const templateDir = (template: Template): Promise<boolean> =>
  once(templatePath(template.key), async (partial) => {
    if (template !== EMPTY) {
      if (!(await templateDir(EMPTY))) throw new Error('no empty template');
      await copyFolder(templatePath(EMPTY.key), partial);
      const db = await create(partial);
      try {
        await template.prepare(db);
      } finally {
        await db.close();
      }
      return;
    }
    const tarball = await templateTarball(template);
    if (!tarball) throw new Error(`no template ${template.key}`);
    await mkdir(partial, { recursive: true });
    try {
      await run('tar', ['-xzf', tarballPath(template), '-C', partial]);
    } catch {
      await rm(partial, { recursive: true, force: true });
      const unpacked = await create(partial, { loadDataDir: tarball });
      await unpacked.close();
    }
  });

/**
 * Makes the template's folder now, if it is not there yet. `npm start` asks for the empty one early
 * on a machine's first start, so that its initdb runs beside other work rather than while every
 * subgraph waits for it; tests make the subgraphs' migrated ones before they start.
 */
export const prepareTemplate = (template: Template = EMPTY): Promise<boolean> => templateDir(template);
/** Whether the template's folder has been made: a new database on disk is then a plain copy of it. */
export const templateExists = (template: Template): boolean => existsSync(templatePath(template.key));

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
  if (dir && existsSync(path.join(dir, 'PG_VERSION'))) return create(dir);
  if (dir) {
    await mkdir(path.dirname(dir), { recursive: true });
    if (await copyTemplate(dir, template).catch(() => false)) return create(dir);
    await mkdir(dir, { recursive: true });
  }
  const loadDataDir = await templateTarball(template);
  if (loadDataDir) return create(dir, { loadDataDir });
  const db = await create(dir);
  await template.prepare(db);
  return db;
}
