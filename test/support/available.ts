// The one place the tests learn what this machine offers beyond Node: PostgreSQL, Redis, Prometheus's
// promtool, kubectl and Chromium. A test that needs one of them and finds it missing is counted as
// skipped with the reason in its name (`skipped(...)`, `describe.skipIf`); the global setups print one
// line naming what is missing, and under CI=true they fail at once instead (test/support/setup-check.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The PostgreSQL server the tests create their databases on (TEST_DATABASE_URL overrides it). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Redis for the tests that also run on it (the login throttle, the response cache, subscription events). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Debian's Chromium for the browser tests (CHROMIUM_PATH overrides it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type Requirement = 'PostgreSQL' | 'Redis' | 'promtool' | 'kubectl' | 'Chromium';
export const REQUIREMENTS: Requirement[] = ['PostgreSQL', 'Redis', 'promtool', 'kubectl', 'Chromium'];

async function postgresMissing(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return undefined;
  } catch (err) {
    return `PostgreSQL is not reachable at ${ADMIN_URL} (${(err as Error).message || (err as { code?: string }).code}; set TEST_DATABASE_URL)`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisMissing(): Promise<string | undefined> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  let failure: Error | undefined;
  redis.on('error', (err: Error) => (failure ??= err));
  try {
    await redis.connect();
    if ((await redis.ping()) === 'PONG') return undefined;
    return `Redis at ${TEST_REDIS_URL} does not answer PING (set TEST_REDIS_URL)`;
  } catch (err) {
    return `Redis is not reachable at ${TEST_REDIS_URL} (${(failure ?? (err as Error)).message}; set TEST_REDIS_URL)`;
  } finally {
    redis.disconnect();
  }
}

/**
 * Asynchronous on purpose: the probes run together, and a synchronous spawn of a cold binary blocks
 * the event loop long enough for PostgreSQL's connection timer to fire before its answer is read.
 */
function commandMissing(command: string, args: string[], install: string): Promise<string | undefined> {
  return new Promise((resolve) => execFile(command, args, (err) => resolve(err ? `${command} is not installed (${install})` : undefined)));
}

const probes: Record<Requirement, () => Promise<string | undefined> | string | undefined> = {
  PostgreSQL: postgresMissing,
  Redis: redisMissing,
  promtool: () => commandMissing('promtool', ['--version'], 'apt-get install prometheus'),
  kubectl: () => commandMissing('kubectl', ['version', '--client'], 'apt-get install kubernetes-client'),
  Chromium: () => (existsSync(CHROMIUM_PATH) ? undefined : `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`),
};

const cache = new Map<Requirement, Promise<string | undefined>>();

/** Why `what` cannot be used here, or undefined when it can. Probed once per test file. */
export function missing(what: Requirement): Promise<string | undefined> {
  let probe = cache.get(what);
  if (!probe) cache.set(what, (probe = Promise.resolve(probes[what]())));
  return probe;
}

/** Why each of these is missing (only the missing ones). */
export async function missingOf(what: Requirement[] = REQUIREMENTS): Promise<Partial<Record<Requirement, string>>> {
  const reasons = await Promise.all(what.map(async (w) => [w, await missing(w)] as const));
  return Object.fromEntries(reasons.filter(([, reason]) => reason !== undefined));
}

/** A test or suite name that says why it is skipped when `reason` is set. */
export const skipped = (name: string, reason: string | undefined): string => (reason ? `${name} [skipped: ${reason}]` : name);

export type Backend = 'pglite' | 'postgres';
/**
 * Both backends, each with why it cannot run here (PostgreSQL unreachable): for
 * `describe.each(await backends())` with `describe.skipIf`, so that a missing PostgreSQL shows as
 * skipped cases instead of vanishing. Use `onBackends` for the common shape.
 */
export async function backends(): Promise<{ backend: Backend; skip: string | undefined }[]> {
  return [
    { backend: 'pglite', skip: undefined },
    { backend: 'postgres', skip: await missing('PostgreSQL') },
  ];
}
