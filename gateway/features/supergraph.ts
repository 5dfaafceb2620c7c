// The supergraph the gateway serves, as a gateway feature (useSupergraph): read from SUPERGRAPH_PATH
// and reloaded in place when the file changes (a watch on its directory, so that an editor's or a
// Kubernetes ConfigMap's replace-by-rename or symlink swap is seen) or on SIGHUP, through Apollo
// Gateway's SupergraphManager `update`. A new file is parsed and validated before the swap; a
// broken or unreadable one is refused (one log line, gateway_supergraph_reloads_total{outcome=
// "refused"}) and the last good one stays in use. GET /ready names the supergraph in use by hash,
// in introspection mode too (there IntrospectAndCompose polls the subgraphs and this feature only
// names what it loads).
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import type { SupergraphManager, SupergraphSdlUpdateFunction } from '@apollo/gateway';
import type { Logger } from '../../lib/logger.js';
import type { GatewayFeature } from '../feature.js';
import { gatewayMetrics, type GatewayMetrics } from '../metrics.js';

/** The name GET /ready and the logs give a supergraph: the first 12 hex digits of the SHA-256 of its SDL. */
export const supergraphHash = (sdl: string): string => createHash('sha256').update(sdl).digest('hex').slice(0, 12);

/** Every gateway of this process that reads a file (tests run several): one SIGHUP listener for all. */
const onHangup = new Set<() => void>();
const hangup = () => {
  for (const reload of onHangup) reload();
};
function listenForHangup(reload: () => void): () => void {
  if (onHangup.size === 0) process.on('SIGHUP', hangup);
  onHangup.add(reload);
  return () => {
    onHangup.delete(reload);
    if (onHangup.size === 0) process.off('SIGHUP', hangup);
  };
}

export type ReloadOutcome = 'applied' | 'unchanged' | 'refused';

export interface SupergraphOptions {
  /** The supergraph file; undefined when the gateway composes by introspection. */
  path: string | undefined;
  logger: Logger;
  /** Changes to the file within this time are read once, after the last (editors write in steps). */
  debounceMs?: number;
  metrics?: GatewayMetrics;
}

export interface SupergraphFeature extends GatewayFeature {
  /** Reads the file again and swaps to it if it changed and is valid (what a file change and SIGHUP do). */
  reload(): Promise<ReloadOutcome>;
}

export function useSupergraph(options: SupergraphOptions): SupergraphFeature {
  const { logger, debounceMs = 200 } = options;
  const metrics = options.metrics ?? gatewayMetrics();
  let current: string | undefined; // the hash of the supergraph in use
  let refusedHash: string | undefined; // the last file refused: refused once, not at every event
  let update: SupergraphSdlUpdateFunction | undefined;
  let running: Promise<ReloadOutcome> | undefined;
  let again = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unlisten = () => {};
  const file = options.path && path.resolve(options.path);

  const refuse = (reason: string, err?: unknown): ReloadOutcome => {
    metrics.supergraphReloads.inc({ outcome: 'refused' });
    logger.error({ path: file, reason, err: err instanceof Error ? err.message : err, supergraph: current }, 'supergraph file refused: still serving the last good supergraph');
    return 'refused';
  };

  /** `watched`: asked by a file event, of which one write may make several (a refusal is said once per file). */
  async function readAndSwap(watched: boolean): Promise<ReloadOutcome> {
    if (!file || !update) return 'unchanged';
    let sdl: string;
    try {
      sdl = await readFile(file, 'utf8');
    } catch (err) {
      return refuse('unreadable', err);
    }
    const hash = supergraphHash(sdl);
    if (hash === current) return 'unchanged';
    if (watched && hash === refusedHash) return 'refused'; // already said
    try {
      // Validated as a whole before anything changes; Apollo Gateway builds it again in update.
      Supergraph.build(sdl, { validateSupergraph: true });
    } catch (err) {
      refusedHash = hash;
      return refuse('invalid', err);
    }
    const previous = current;
    try {
      update(sdl); // throws, changing nothing, if the gateway cannot use it
    } catch (err) {
      refusedHash = hash;
      return refuse('not applied', err);
    }
    refusedHash = undefined;
    metrics.supergraphReloads.inc({ outcome: 'applied' });
    logger.info({ path: file, supergraph: hash, previous }, 'supergraph reloaded');
    return 'applied';
  }

  /** One reload at a time; a change during one is read once it is done. */
  function reload(watched = false): Promise<ReloadOutcome> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let outcome = await readAndSwap(watched);
        while (again) {
          again = false;
          outcome = await readAndSwap(watched);
        }
        return outcome;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(true), debounceMs);
  };
  const onSignal = () => {
    logger.info({ path: file }, 'SIGHUP: reading the supergraph file again');
    void reload();
  };

  function stop(): Promise<void> {
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
    unlisten();
    update = undefined;
    return Promise.resolve();
  }

  const manager: SupergraphManager = {
    async initialize(hooks) {
      if (!file) throw new Error('no supergraph file to read');
      const sdl = await readFile(file, 'utf8');
      update = hooks.update;
      const base = path.basename(file);
      try {
        // The directory, not the file: a file replaced by rename, or a ConfigMap's `..data` symlink
        // swapped by the kubelet, is a new file the old watch would never see change.
        watcher = watch(path.dirname(file), (_event, name) => {
          if (name === null || name === base || name === '..data') schedule();
        });
        watcher.on('error', (err) => logger.warn({ err, path: file }, 'watching the supergraph file failed: reload with SIGHUP'));
        watcher.unref();
      } catch (err) {
        logger.warn({ err, path: file }, 'cannot watch the supergraph file: reload with SIGHUP');
      }
      unlisten = listenForHangup(onSignal);
      return { supergraphSdl: sdl, cleanup: stop };
    },
  };

  return {
    ...(file ? { supergraphManager: manager } : {}),
    onSupergraph: ({ coreSupergraphSdl }) => {
      current = supergraphHash(coreSupergraphSdl);
    },
    readyInfo: () => (current ? { supergraph: current } : {}),
    reload: () => reload(),
    close: stop,
  };
}
