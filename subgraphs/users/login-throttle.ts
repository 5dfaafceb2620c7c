// Password guessing is throttled: failed logins are counted per account and per client address,
// registrations per address, in the users database (so every replica shares the counts) or in
// Redis. A limited attempt is refused before the account is read, so it costs no password hash,
// and it is not counted (only real guesses are). Counting is rate-limiter-flexible's fixed window.
import { isIPv6 } from 'node:net';
import { Redis } from 'ioredis';
import { RateLimiterPrisma, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LoginThrottleConfig, SubgraphConfig } from '../../lib/config.js';
import { serviceUnavailable, tooManyRequests } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { UsersDb } from './db.js';

export interface LoginThrottle {
  /**
   * Runs `check` (find the account, verify the password) unless the account or the address has
   * used up its failures; a `null` result counts as a failure against both.
   */
  login<T>(attempt: { email: string; address: string | undefined }, check: () => Promise<T | null>): Promise<T | null>;
  /** Counts a registration from this address; throws TOO_MANY_REQUESTS once it has used up its budget. */
  register(address: string | undefined): Promise<void>;
  close(): Promise<void>;
}

/** Where the counters live; every limiter of one store shares it (keys are `<prefix>:<key>`). */
interface Store {
  limiter(keyPrefix: string, points: number, durationSeconds: number): RateLimiterAbstract;
  close(): Promise<void>;
}

/** The longest a Redis command of the throttle may take; then the login is refused as unavailable. */
const STORE_TIMEOUT_MS = 1_000;
/** What a login refused for want of its store tells the client to wait. */
const STORE_RETRY_AFTER_SECONDS = 2;

/** Rows of expired windows are ignored and overwritten; this only keeps the table small. */
const SWEEP_INTERVAL_MS = 5 * 60_000;

function databaseStore(db: UsersDb, logger: Logger): Store {
  const sweep = setInterval(() => {
    db.loginThrottle.deleteMany({ where: { expire: { lt: new Date() } } }).catch((err: unknown) => logger.warn({ err }, 'login throttle sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();
  return {
    // The library's own sweep is a timer per limiter that outlives the client; ours stops on close.
    limiter: (keyPrefix, points, duration) =>
      new RateLimiterPrisma({ storeClient: db, tableName: 'loginThrottle', keyPrefix, points, duration, clearExpiredByTimeout: false }),
    close: async () => clearInterval(sweep),
  };
}

function redisStore({ url, keyPrefix }: { url: string; keyPrefix: string }, logger: Logger): Store {
  // One retry, not twenty, and no command waits longer than STORE_TIMEOUT_MS (queued for a
  // reconnect, or sent to a Redis that does not answer): with Redis away a login is refused
  // (SERVICE_UNAVAILABLE) within that bound instead of hanging.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: STORE_TIMEOUT_MS });
  // ioredis reconnects by itself; say so once per outage, not on every attempt.
  let reachable = true;
  redis.on('ready', () => (reachable = true));
  redis.on('error', (err) => {
    if (reachable) logger.error({ err }, 'login throttle cannot reach Redis');
    reachable = false;
  });
  return {
    limiter: (prefix, points, duration) => new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}${prefix}`, points, duration }),
    // In-flight requests have finished when the service closes its resources.
    close: async () => redis.disconnect(),
  };
}

/**
 * The key of a client address: IPv4-mapped addresses as plain IPv4, and IPv6 by its /64 network,
 * since one customer line is given a whole /64 and could otherwise step through its addresses.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const width = (part: string[]) => part.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0); // a trailing dotted quad is two groups
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - width(left) - width(right)).fill('0');
  return `${[...left, ...zeros, ...right].slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

type Counter = { limiter: RateLimiterAbstract; key: string };

/**
 * Takes a point from every counter, unless one is used up: then it takes none and returns the
 * used-up ones. Throws what the store throws.
 */
async function take(counters: Counter[]): Promise<RateLimiterRes[]> {
  // A read first: an account or address already limited costs no write (and its caller no hash).
  const current = await Promise.all(counters.map(({ limiter, key }) => limiter.get(key)));
  const usedUp = current.filter((res, i): res is RateLimiterRes => res !== null && res.consumedPoints >= counters[i]!.limiter.points);
  if (usedUp.length > 0) return usedUp;

  // Then the point is taken before the password is checked, so parallel guesses cannot all pass the read.
  const taken = await Promise.allSettled(counters.map(({ limiter, key }) => limiter.consume(key)));
  const failed = taken.find((t): t is PromiseRejectedResult => t.status === 'rejected' && !(t.reason instanceof RateLimiterRes));
  if (failed) throw failed.reason;
  const refused = taken.flatMap((t) => (t.status === 'rejected' ? [t.reason as RateLimiterRes] : []));
  // Lost the race for the last point: a refused attempt is not a guess, so give back what it took.
  if (refused.length > 0) await Promise.all(counters.map(({ limiter, key }) => limiter.reward(key)));
  return refused;
}

const retryAfterSeconds = (limited: RateLimiterRes[]) => Math.max(1, ...limited.map((r) => Math.ceil(r.msBeforeNext / 1000)));

export function createLoginThrottle(
  db: UsersDb,
  { loginThrottle: limits, redis }: { loginThrottle: LoginThrottleConfig; redis: SubgraphConfig['redis'] },
  logger: Logger,
): LoginThrottle {
  const store = redis ? redisStore(redis, logger) : databaseStore(db, logger);
  const perAccount = store.limiter('login-failures-account', limits.failuresPerAccount, limits.failureWindowSeconds);
  const perAddress = store.limiter('login-failures-address', limits.failuresPerAddress, limits.failureWindowSeconds);
  const registrations = store.limiter('registrations-address', limits.registrationsPerAddress, limits.registrationWindowSeconds);

  /** The store failing (anything but the limiter's own RateLimiterRes): logins stop rather than go unthrottled. */
  const storeFailed = (err: unknown) => {
    logger.error({ err }, 'login throttle store failed');
    return serviceUnavailable('logging in is unavailable right now; try again shortly', undefined, STORE_RETRY_AFTER_SECONDS);
  };
  const refuse = (what: string, limited: RateLimiterRes[]) => {
    const seconds = retryAfterSeconds(limited);
    return tooManyRequests(`too many ${what}; try again in ${seconds} seconds`, seconds);
  };

  return {
    async login({ email, address }, check) {
      const counters = [
        { limiter: perAccount, key: email },
        { limiter: perAddress, key: addressKey(address) },
      ];
      const limited = await take(counters).catch((err: unknown) => {
        throw storeFailed(err);
      });
      if (limited.length > 0) throw refuse('failed logins', limited);

      const result = await check();
      if (result !== null) {
        // A success is not a failure: the account starts afresh (only its owner can do that), and
        // the address gets back the point it took but keeps its earlier failures, so logging into
        // one's own account does not wipe out a guessing run against others from the same address.
        await Promise.all([perAccount.delete(email), perAddress.reward(addressKey(address))]).catch((err: unknown) =>
          logger.warn({ err }, 'login throttle not reset after a successful login'),
        );
      }
      return result;
    },

    async register(address) {
      try {
        await registrations.consume(addressKey(address));
      } catch (err) {
        if (err instanceof RateLimiterRes) throw refuse('registrations', [err]);
        throw storeFailed(err);
      }
    },

    close: () => store.close(),
  };
}
