// The services compiled once to plain JavaScript for `npm start`. Run through tsx, every process
// transpiles and resolves the project's TypeScript on each start through a loader thread; one
// esbuild bundle per entry point (esbuild ships with tsx) is then started with plain `node`. The
// packages they use are bundled too: finding, reading and linking a thousand files of node_modules
// cost every process a few hundred milliseconds of CPU at each start (the gateway a third of its
// start). The bundles live in .cache/build/ with a manifest of the content hash of every file that
// went into them: when none changed, a start reuses them without running esbuild; when one did,
// they are rebuilt before anything starts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../lib/paths.js';
import { SERVICE_NAMES } from '../lib/services.js';

const DEFAULT_BUILD_DIR = path.join(ROOT, '.cache', 'build');
/** npm's record of every package installed in node_modules (rewritten by each npm ci or install). */
const INSTALLED_PACKAGES = 'node_modules/.package-lock.json';

/** Every service's entry point: what `npm start` runs, always built together. */
export const SERVICE_ENTRIES = [...SERVICE_NAMES.map((name) => `subgraphs/${name}/index.ts`), 'gateway/index.ts'];

interface Manifest {
  /** What else decides the output: esbuild's version and these options. */
  key: string;
  /** Folder under .cache/build/ holding this build. */
  id: string;
  /** Every source file in the bundles (relative to the root), with the sha256 of its content. */
  inputs: Record<string, string>;
  /** Entry (relative .ts path) to its bundle (relative to the root). */
  outputs: Record<string, string>;
}

// esbuild is tsx's own dependency (installed with it), so it is resolved through tsx.
const loadEsbuild = () => createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as typeof import('esbuild');

/**
 * Packages left to node_modules: those that find their own files at run time (WebAssembly, data
 * files, worker threads) and the optional tracing SDK, loaded only when asked for.
 */
const EXTERNAL_PACKAGES = ['@electric-sql/pglite', 'pglite-prisma-adapter', '@prisma/*', 'pg', 'pino', '@opentelemetry/*'];

const OPTIONS_VERSION = `esm node20 linked-sourcemap external ${EXTERNAL_PACKAGES.join(',')} v2`;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function readManifest(manifestPath: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The bundles of `manifest` when they were built from exactly the files there now. */
function current(manifest: Manifest | undefined, entries: string[], key: string): Manifest | undefined {
  if (!manifest || manifest.key !== key || !entries.every((e) => manifest.outputs[e])) return undefined;
  for (const [file, digest] of Object.entries(manifest.inputs)) {
    const at = path.join(ROOT, file);
    if (!existsSync(at) || sha256(readFileSync(at)) !== digest) return undefined;
  }
  if (!Object.values(manifest.outputs).every((out) => existsSync(path.join(ROOT, out)))) return undefined;
  return manifest;
}

async function build(entries: string[], key: string, BUILD_DIR: string): Promise<Manifest> {
  const MANIFEST = path.join(BUILD_DIR, 'manifest.json');
  const esbuild = loadEsbuild();
  const staging = path.join(BUILD_DIR, `staging-${process.pid}-${Date.now()}`);
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    // Bundled CommonJS packages call require() for Node's own modules; ES modules have none.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    splitting: true, // lib/ and the packages once, shared by the five bundles
    outdir: staging,
    outbase: ROOT,
    outExtension: { '.js': '.mjs' },
    // Stack traces name the TypeScript sources (node --enable-source-maps).
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  });
  const inputs: Record<string, string> = {};
  // esbuild also reads tsconfig.json (and package.json decides the module type). The packages are
  // not hashed file by file at every start: npm's record of the installed tree stands for them.
  const sources = Object.keys(result.metafile.inputs).filter((file) => !file.split('/').includes('node_modules'));
  for (const file of [...sources, 'tsconfig.json', 'package.json', INSTALLED_PACKAGES]) {
    inputs[file] = sha256(await readFile(path.join(ROOT, file)));
  }
  const id = sha256(JSON.stringify(inputs) + key).slice(0, 16);
  const folder = path.join(BUILD_DIR, id);
  await rm(folder, { recursive: true, force: true });
  await rename(staging, folder);
  const outputs: Record<string, string> = {};
  for (const entry of entries) {
    outputs[entry] = path.relative(ROOT, path.join(folder, entry.replace(/\.ts$/, '.mjs')));
  }
  const manifest: Manifest = { key, id, inputs, outputs };
  const partial = `${MANIFEST}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(manifest, null, 1));
  await rename(partial, MANIFEST); // readers never see half a manifest
  // Earlier builds are of no further use (a service started from one has loaded it all already).
  for (const other of await readdir(BUILD_DIR)) {
    if (other !== id && other !== path.basename(MANIFEST) && !other.startsWith('staging-') && !other.endsWith('.partial')) {
      await rm(path.join(BUILD_DIR, other), { recursive: true, force: true });
    }
  }
  return manifest;
}

/**
 * The plain-JavaScript bundle of each entry point (relative .ts paths, e.g. `gateway/index.ts`),
 * as absolute paths: reused when its sources are unchanged, else built now. `buildDir` is
 * .cache/build/ unless a test chooses another.
 */
export async function serviceBundles(entries: string[], buildDir = DEFAULT_BUILD_DIR): Promise<Record<string, string>> {
  const key = `${OPTIONS_VERSION} esbuild ${loadEsbuild().version}`;
  await mkdir(buildDir, { recursive: true });
  const manifest = current(readManifest(path.join(buildDir, 'manifest.json')), entries, key) ?? (await build(entries, key, buildDir));
  return Object.fromEntries(entries.map((e) => [e, path.join(ROOT, manifest.outputs[e]!)]));
}
