// Which committed supergraph a change is compared with: where the branch left main, or the
// previous commit when the check runs on main itself.
import { execFileSync } from 'node:child_process';
import { SUPERGRAPH_FILE } from '../../lib/paths.js';

const git = (root: string, args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

const tryGit = (root: string, args: string[]): string | null => {
  try {
    return git(root, args);
  } catch {
    return null;
  }
};

export interface BaseSupergraph {
  revision: string;
  /** Null when that revision has no supergraph.graphql; `reason` says why. */
  sdl: string | null;
  reason?: string;
}

/** The default base: HEAD~1 on main, otherwise the merge base with main (a commit id). */
export function defaultBaseRevision(root: string): string | null {
  const branch = tryGit(root, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const head = tryGit(root, ['rev-parse', 'HEAD']);
  const main = tryGit(root, ['rev-parse', '--verify', '--quiet', 'main']) ?? tryGit(root, ['rev-parse', '--verify', '--quiet', 'origin/main']);
  if (!head) return null;
  if (branch === 'main' || !main) return 'HEAD~1';
  return tryGit(root, ['merge-base', 'HEAD', main]);
}

export function readBaseSupergraph(root: string, revision: string | null): BaseSupergraph {
  if (!revision) return { revision: '(none)', sdl: null, reason: 'not a git checkout with commits' };
  const resolved = tryGit(root, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  if (!resolved) return { revision, sdl: null, reason: `revision ${revision} does not exist (first commit or shallow clone)` };
  const sdl = tryGit(root, ['show', `${resolved}:${SUPERGRAPH_FILE}`]);
  if (sdl === null) return { revision, sdl: null, reason: `${revision} has no ${SUPERGRAPH_FILE}` };
  const short = resolved.slice(0, 8);
  return { revision: revision === resolved ? `the merge base with main (${short})` : `${revision} (${short})`, sdl };
}
