// `npm run build:web`: the web shop's production build (Vite) into web/dist, which the gateway
// serves when WEB_ROOT names it (`npm start` does). Skipped when none of its inputs changed since
// the last build (a fingerprint is kept in .cache/), so a later `npm start` does not pay for it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../lib/paths.js';
import { clientOperations } from './generate.js';

export const WEB_DIR = path.join(ROOT, 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');
const STAMP = path.join(ROOT, '.cache', 'build-web.sha256');

/** Every file under dir except the build output, sorted so the fingerprint does not depend on directory order. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.startsWith(WEB_DIST + path.sep))
    .sort();
}

function fingerprint(): string {
  const hash = createHash('sha256');
  const inputs = [
    ...files(WEB_DIR),
    ...files(path.join(ROOT, 'clients', 'generated')),
    path.join(ROOT, 'operations', 'persisted-query-manifest.json'),
    path.join(ROOT, 'package-lock.json'),
  ];
  for (const file of inputs) hash.update(file).update(readFileSync(file));
  return hash.digest('hex');
}

/** Builds the shop unless web/dist is already the build of the current sources; returns whether it built. */
export async function buildWeb(options: { force?: boolean } = {}): Promise<boolean> {
  await clientOperations(); // the shop imports the typed operations
  const digest = fingerprint();
  const fresh = existsSync(path.join(WEB_DIST, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest;
  if (fresh && !options.force) return false;
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, digest);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const built = await buildWeb({ force: process.argv.includes('--force') });
  console.log(built ? `built the web shop into ${path.relative(ROOT, WEB_DIST)}` : 'the web shop is up to date');
}
