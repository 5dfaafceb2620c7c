// `--baseline <git ref>`: an earlier commit checked out beside this one (a git worktree in the run's
// temporary directory), with its dependencies and generated clients, so that its subgraphs and
// gateway run under the same load as the current ones, in the same run: a change is measured as a
// ratio on one machine at one time.
import { execFile } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../lib/paths.js';

const run = promisify(execFile);

export interface Baseline {
  /** The ref as given, and the commit it names (short). */
  ref: string;
  commit: string;
  /** The checkout's root. */
  root: string;
  remove(): Promise<void>;
}

/** Checks `ref` out into `dir` and makes it runnable; throws naming a ref git does not know. */
export async function checkOutBaseline(ref: string, dir: string): Promise<Baseline> {
  const commit = await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: ROOT }).then(
    (r) => r.stdout.trim(),
    () => {
      throw new Error(`--baseline ${ref}: not a commit of this repository`);
    },
  );
  const root = path.join(dir, 'baseline');
  await run('git', ['worktree', 'add', '--detach', root, commit], { cwd: ROOT });
  const remove = async () => {
    await run('git', ['worktree', 'remove', '--force', root], { cwd: ROOT }).catch(() => {});
  };
  try {
    // The same lock file: the same packages, so this checkout's node_modules serves both.
    const [ours, theirs] = await Promise.all([readFile(path.join(ROOT, 'package-lock.json'), 'utf8'), readFile(path.join(root, 'package-lock.json'), 'utf8')]);
    if (ours === theirs) await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    else {
      console.log(`installing the baseline's dependencies (its package-lock.json differs)`);
      await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    }
    // Its Prisma clients and typed operations, made by its own generator.
    await run('npm', ['run', 'generate', '--silent'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    await remove();
    throw err;
  }
  return { ref, commit: commit.slice(0, 9), root, remove };
}
