// Finishes order placements that a crash (or an unreachable catalog or database) left half done.
// Runs on start and periodically, and every second while its database or catalog is away, so that
// it settles what an outage interrupted as soon as they are back. Only touches work older than
// `minAgeSeconds`, so it never races a placement still in flight on another replica, except the
// orders a placement in this process gave up on (`settleSoon`): nothing is placing those any more.
import { isDatabaseUnavailable } from '../../lib/data/outage.js';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { CatalogStock } from './catalog-stock.js';
import type { OrdersDb } from './db.js';
import { countOutcome, countRecovery } from './metrics.js';
import { OrderAbandoned, type OrderPlacement } from './placement.js';

export interface RecoveryOptions {
  minAgeSeconds: number;
  intervalMs: number;
}

/** How soon a pass runs again while the database or catalog is away, or after a placement here left an order pending. */
const SOON_MS = 1_000;

export type OrderRecovery = ReturnType<typeof orderRecovery>;

export function orderRecovery(db: OrdersDb, catalog: CatalogStock, placement: OrderPlacement, log: Logger, options: RecoveryOptions) {
  /** Orders a placement in this process stopped on, left PENDING: settled without waiting for their age. */
  const leftHere = new Set<string>();
  /**
   * Settles one item; a failure is logged and retried on the next pass, never blocking the others.
   * An order that can never be confirmed is given up (FAILED, stock returned) with one log line.
   * A step that finds the item settled by someone else (another replica's recovery, the placement
   * itself) returns nothing: that one logs and counts it, so each order is reported once.
   */
  async function attempt(orderId: string, step: () => Promise<string | undefined>): Promise<number> {
    try {
      const done = await step();
      if (!done) return 0;
      log.info({ orderId }, done);
      return 1;
    } catch (err) {
      if (err instanceof OrderAbandoned) {
        countRecovery('fail_order');
        countOutcome('released');
        log.error({ orderId, err: err.cause }, 'recovery gave the order up: it cannot be confirmed; marked FAILED, its stock returned');
        return 1;
      }
      if (err instanceof GraphQLError && err.extensions.code === ErrorCode.SERVICE_UNAVAILABLE) throw err; // catalog is down: stop this pass
      log.warn({ orderId, err }, 'recovery could not settle this order; retrying on the next pass');
      return 0;
    }
  }

  /** One pass; returns how many orders or reservations it settled. */
  async function runOnce(): Promise<number> {
    let settled = 0;
    const cutoff = new Date(Date.now() - options.minAgeSeconds * 1000);

    // Orders stuck PENDING: complete them when catalog holds their stock, otherwise give them up
    // (FAILED first, so a placement finishing at this moment cannot confirm them; the release
    // then leaves a record that stops a late reservation from taking stock).
    const pending = await db.order.findMany({ where: { status: 'PENDING', OR: [{ createdAt: { lt: cutoff } }, { id: { in: [...leftHere] } }] }, take: 100 });
    const stillPending = new Set(pending.map((o) => o.id));
    for (const id of leftHere) if (!stillPending.has(id)) leftHere.delete(id);
    for (const order of pending) {
      settled += await attempt(order.id, async () => {
        const reservation = await catalog.find(order.id);
        if (reservation?.status === 'RESERVED' || reservation?.status === 'COMMITTED') {
          const { order: completed, settledHere } = await placement.complete(order.id, reservation);
          if (!settledHere) return undefined;
          countRecovery('complete_order');
          countOutcome(completed.status === 'CONFIRMED' ? 'recovered' : 'released');
          return `recovered order: ${completed.status}`;
        }
        if (!(await placement.giveUp(order.id))) return undefined;
        countRecovery('fail_order');
        countOutcome('released');
        return 'recovered order: failed, nothing reserved';
      });
    }

    // Cancelled orders whose stock catalog has not taken back yet (it was unreachable).
    const unreleased = await db.order.findMany({ where: { status: 'CANCELLED', stockReleasedAt: null, updatedAt: { lt: cutoff } }, take: 100 });
    for (const order of unreleased) {
      settled += await attempt(order.id, async () => {
        if (!(await placement.releaseCancelled(order.id))) return undefined;
        countRecovery('release_cancelled');
        return 'recovered cancellation: stock returned';
      });
    }

    // Reservations still held: commit those of confirmed orders, release the rest.
    for (const reservation of await catalog.stale(options.minAgeSeconds)) {
      const order = await db.order.findUnique({ where: { id: reservation.orderId } });
      if (order?.status === 'PENDING') continue; // younger than the cutoff: its placement may still finish
      settled += await attempt(reservation.orderId, async () => {
        if (order?.status === 'CONFIRMED') await catalog.commit(reservation.orderId);
        else await catalog.release(reservation.orderId);
        countRecovery(order?.status === 'CONFIRMED' ? 'commit_reservation' : 'release_reservation');
        return `recovered reservation of a ${order?.status ?? 'missing'} order`;
      });
    }

    // Failed orders whose stock is not known to be back (catalog could not be reached when they
    // failed, or the service stopped first): return it, then free their idempotency keys. A failed
    // order never changes again, so this needs no minimum age, and a retry waiting on its key is
    // answered as soon as catalog takes the stock back.
    const failed = await db.order.findMany({ where: { status: 'FAILED', stockReleasedAt: null }, select: { id: true, idempotencyKey: true }, take: 100 });
    for (const order of failed) {
      settled += await attempt(order.id, async () => {
        await placement.returnFailedStock(order.id);
        if (order.idempotencyKey === null) return undefined; // nothing waits on it: no log line
        countRecovery('free_key');
        return 'recovered failed order: stock returned, idempotency key freed';
      });
    }
    return settled;
  }

  // The next pass is due an interval after the last one ended, never while it runs: a pass slower
  // than the interval (a busy machine, a slow catalog) would otherwise meet the next one on the
  // same orders, each settling them and logging it.
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let busy = false;
  let dueAt = 0;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = (ms: number) => {
    if (stopped || busy || (timer && dueAt <= Date.now() + ms)) return;
    clearTimeout(timer);
    dueAt = Date.now() + ms;
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const tick = () => {
    timer = undefined;
    busy = true;
    let next = options.intervalMs;
    running = runOnce()
      .then(() => {
        if (leftHere.size > 0) next = Math.min(next, SOON_MS);
      })
      .catch((err: unknown) => {
        // Catalog or the database not (yet) reachable is expected at start and during outages: look again soon.
        if (err instanceof GraphQLError && err.extensions.code === ErrorCode.SERVICE_UNAVAILABLE) log.info('order recovery waits for the catalog service');
        else if (isDatabaseUnavailable(err)) log.info('order recovery waits for its database');
        else log.warn({ err }, 'order recovery failed; will retry');
        next = Math.min(next, SOON_MS);
      })
      .finally(() => {
        busy = false;
        schedule(next);
      });
  };
  return {
    runOnce,
    /** A placement here stopped with this order PENDING: settle it on the next pass, within about a second. */
    settleSoon(orderId: string) {
      leftHere.add(orderId);
      schedule(SOON_MS);
    },
    start() {
      stopped = false;
      tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
