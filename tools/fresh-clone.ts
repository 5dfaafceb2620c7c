// A fresh clone of the project, as a new user gets it, for measuring and testing a first start: the
// files git tracks or would track (no .cache/, no .data/, no generated code, no build) copied to a
// temporary folder, with the installed node_modules linked in rather than installed again.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/paths.js';

/** Makes the copy and returns its folder; the caller removes it. */
export function freshClone(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'commerce-fresh-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && f !== 'node_modules');
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    try {
      copyFileSync(path.join(ROOT, file), path.join(dir, file));
    } catch {
      // deleted in the working tree but still in the index
    }
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}
