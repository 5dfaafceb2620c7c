// Placing and cancelling orders: a saga over two services. The order is written PENDING first,
// then catalog reserves the stock (at catalog's prices), then the order is confirmed with those
// prices. Every step is idempotent per order id; `recovery.ts` finishes what a crash interrupted.
// A step that can never succeed gives the order up at once (FAILED, stock returned) instead of
// leaving its stock held for recovery to fail on again and again.
import { randomUUID } from 'node:crypto';
import { GRAPHQL_MAX_INT, GraphQLError } from 'graphql';
import { z } from 'zod';
import { canSee, requireViewer } from '../../lib/security/auth.js';
import { isDataError, isUniqueViolation } from '../../lib/data/database.js';
import { badUserInput, ErrorCode, forbidden, internalError, notFound, serviceUnavailable } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { ServiceError } from '../../lib/subgraph/service-client.js';
import { parseInput } from '../../lib/subgraph/validation.js';
import type { CatalogStock, Reservation } from './catalog-stock.js';
import type { Order, OrdersDb } from './db.js';
import { ORDER_CHANGED } from './live.js';
import { countOutcome, ordersMetrics } from './metrics.js';
import type { OrdersContext } from './loaders.js';

const placeOrderInput = z.object({
  items: z
    .array(
      z.object({
        productId: z.string().min(1, 'productId must not be empty').max(64, 'productId is too long'),
        quantity: z.number().int().min(1, 'quantity must be at least 1').max(100, 'quantity must be at most 100'),
      }),
    )
    .min(1, 'an order needs at least one item')
    .max(50, 'an order has at most 50 items')
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear only once'),
  idempotencyKey: z.string().min(1, 'idempotencyKey must not be empty').max(100, 'idempotencyKey must be at most 100 characters').nullish(),
});

/** Catalog's refusals that are about the client's order; any other refusal is our fault, not theirs. */
const ORDER_REFUSALS = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.OUT_OF_STOCK]);

/** A reservation no order can be confirmed with (catalog refuses to make such ones; older ones may exist). */
class UnconfirmableReservation extends Error {}

/** The order was given up because confirming it can never succeed; its stock went back to catalog. */
export class OrderAbandoned extends Error {
  constructor(orderId: string, cause: unknown) {
    super(`order ${orderId} cannot be confirmed and was given up`, { cause });
  }
}

/** Confirming again cannot help: the reservation is unusable, or the orders database refuses the data. */
const isPermanent = (err: unknown) => err instanceof UnconfirmableReservation || isDataError(err);

/** What an order is charged for its reservation; the total must fit Money.amount and Order.totalAmount (32-bit). */
function charge(reservation: Reservation): { total: number; currency: string } {
  const currencies = new Set(reservation.lines.map((l) => l.unitPrice.currency));
  const total = reservation.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0);
  if (currencies.size !== 1) throw new UnconfirmableReservation(`the reservation has ${currencies.size} currencies`);
  if (total > GRAPHQL_MAX_INT) throw new UnconfirmableReservation(`the total of ${total} is more than an order can hold`);
  return { total, currency: [...currencies][0]! };
}

/**
 * A request that finds its key's order still being placed looks again after 50 ms, then less and
 * less often, for at most this long; then it answers "send it again" (within the gateway's deadline).
 */
const SETTLE_WAIT_MS = 4_000;
/** What a retry is told to wait when its key's earlier order is not settled yet (recovery looks again about this often while catalog is away). */
const RELEASE_RETRY_AFTER_SECONDS = 2;

export interface PlacementOptions {
  /** Called after a status change committed with its event in the outbox: publish it now (the order's subscribers learn of it). */
  written?: () => void;
  /** Test hook: exit the process right after the reservation, before the order is confirmed. */
  crashAfterReserve?: boolean;
  /**
   * Called when a placement in this process stops with its order still PENDING (its database or
   * catalog went away mid-way): nothing here is placing it any more, so recovery may settle it at
   * once instead of waiting for its minimum age.
   */
  leftPending?: (orderId: string) => void;
}

export type OrderPlacement = ReturnType<typeof orderPlacement>;

export function orderPlacement(db: OrdersDb, catalog: CatalogStock, log: Logger, options: PlacementOptions = {}) {
  ordersMetrics(); // registered now: /metrics lists the saga's counters before the first order
  const written = () => options.written?.();
  /**
   * Writes the reserved lines and prices into the order and confirms it, once: one statement, so
   * a rush of orders never queues on interactive transactions. A no-op unless the order is PENDING;
   * true when this call confirmed it (it inserted the lines), false when another got there first.
   */
  async function confirm(orderId: string, reservation: Reservation): Promise<boolean> {
    const { total, currency } = charge(reservation);
    const lines = reservation.lines;
    const inserted = await db.$executeRaw`
      WITH confirmed AS (
        UPDATE "Order" SET status = 'CONFIRMED', "totalAmount" = ${total}, currency = ${currency}, "updatedAt" = ${new Date()}
        WHERE id = ${orderId} AND status = 'PENDING'
        RETURNING id, "userId"
      ), event AS (
        INSERT INTO "OutboxEvent" (topic, payload) SELECT ${ORDER_CHANGED}, json_build_object('id', id, 'owner', "userId")::text FROM confirmed
      )
      INSERT INTO "OrderItem" (id, "orderId", "productId", quantity, "unitPriceAmount", currency)
      SELECT item.id, confirmed.id, item."productId", item.quantity, item."unitPriceAmount", item.currency
      FROM confirmed, unnest(${lines.map(() => randomUUID())}::text[], ${lines.map((l) => l.productId)}::text[], ${lines.map((l) => l.quantity)}::int[],
                             ${lines.map((l) => l.unitPrice.amount)}::int[], ${lines.map((l) => l.unitPrice.currency)}::text[])
        AS item(id, "productId", quantity, "unitPriceAmount", currency)`;
    if (inserted > 0) written();
    return inserted > 0;
  }

  /** Moves an order from one status to another, with its event, in one statement; 1 when this call moved it, else 0. */
  async function setStatus(orderId: string, from: Order['status'], to: Order['status']): Promise<number> {
    const moved = await db.$executeRaw`
      WITH moved AS (
        UPDATE "Order" SET status = ${to}::"OrderStatus", "updatedAt" = ${new Date()}
        WHERE id = ${orderId} AND status = ${from}::"OrderStatus"
        RETURNING id, "userId"
      )
      INSERT INTO "OutboxEvent" (topic, payload) SELECT ${ORDER_CHANGED}, json_build_object('id', id, 'owner', "userId")::text FROM moved`;
    if (moved > 0) written();
    return moved;
  }

  /**
   * Returns a FAILED order's stock to catalog, then records that it is back and frees the order's
   * idempotency key, in one update: sending the order again places it anew only once nothing is
   * held for the first attempt. Throws, leaving the key taken, when catalog cannot be reached.
   */
  async function returnFailedStock(orderId: string, requestId?: string): Promise<void> {
    await catalog.release(orderId, requestId);
    await db.order.updateMany({ where: { id: orderId, status: 'FAILED' }, data: { idempotencyKey: null, stockReleasedAt: new Date() } });
  }

  /**
   * Gives a PENDING order up and returns whatever stock catalog holds for it. Marking it FAILED is
   * the gate: only the call that flips it releases, and a placement finishing at this moment can no
   * longer confirm it. The release also leaves a record that makes a late reservation take nothing.
   * The idempotency key is freed only with the release: if catalog cannot be reached, the key stays
   * with the failed order, a retry with it is told so, and recovery (or that retry) returns the
   * stock and frees the key later. True when this call gave it up; false when it was no longer
   * PENDING (settled by another replica's recovery, or by the placement itself).
   */
  async function giveUp(orderId: string, requestId?: string): Promise<boolean> {
    if ((await setStatus(orderId, 'PENDING', 'FAILED')) === 0) return false;
    await returnFailedStock(orderId, requestId).catch((err) => log.warn({ orderId, err }, 'stock release deferred to recovery; the idempotency key stays taken until then'));
    return true;
  }

  /**
   * Confirms the order with its reservation and commits the stock. A failure that retrying cannot
   * fix gives the order up at once (OrderAbandoned); any other failure leaves it PENDING for recovery.
   * `settledHere` is false when another call (a placement, another replica's recovery) settled the
   * order first: the order is as that call left it, and the outcome is that call's to report.
   */
  async function complete(orderId: string, reservation: Reservation, requestId?: string): Promise<{ order: Order; settledHere: boolean }> {
    let settledHere: boolean;
    try {
      settledHere = await confirm(orderId, reservation);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      if (await giveUp(orderId, requestId)) throw new OrderAbandoned(orderId, err);
      settledHere = false;
    }
    const order = await db.order.findUniqueOrThrow({ where: { id: orderId } });
    if (order.status === 'CONFIRMED') {
      await catalog.commit(orderId, requestId).catch((err) => log.warn({ orderId, err }, 'commit deferred to recovery'));
    }
    return { order, settledHere };
  }

  /**
   * A concurrent request with the same key owns the order: wait until it settles. Null when that
   * order is gone (catalog refused it) or failed and its stock is back, so this request places the
   * order anew. A failed order whose stock catalog has not taken back yet keeps its key: this
   * request tries the release itself and, if catalog still cannot be reached, says so.
   */
  async function settled(userId: string, key: string, requestId?: string): Promise<Order | null> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    for (let pause = 50; ; pause = Math.min(2 * pause, 1_000)) {
      const order = await db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey: key } } });
      if (!order || (order.status !== 'PENDING' && order.status !== 'FAILED')) return order;
      if (order.status === 'FAILED') {
        try {
          await returnFailedStock(order.id, requestId);
          return null;
        } catch (err) {
          log.warn({ orderId: order.id, err }, 'the failed order with this key still holds stock');
          throw serviceUnavailable(
            'the earlier order with this idempotencyKey failed and the stock it took is not back yet; send it again shortly to place it anew',
            undefined,
            RELEASE_RETRY_AFTER_SECONDS,
          );
        }
      }
      if (Date.now() + pause > deadline) break;
      await new Promise((r) => setTimeout(r, pause));
    }
    throw serviceUnavailable('the order with this idempotencyKey is still being placed; send it again to learn its outcome', undefined, RELEASE_RETRY_AFTER_SECONDS);
  }

  /** Gives a cancelled order's stock back to catalog and records that it did; false when another call recorded it first. */
  async function releaseCancelled(orderId: string, requestId?: string): Promise<boolean> {
    await catalog.release(orderId, requestId);
    // The cancellation's event, written with the record of the release: once, and never before the stock is back.
    const recorded = await db.$executeRaw`
      WITH released AS (
        UPDATE "Order" SET "stockReleasedAt" = ${new Date()} WHERE id = ${orderId} AND "stockReleasedAt" IS NULL RETURNING id, "userId"
      )
      INSERT INTO "OutboxEvent" (topic, payload) SELECT ${ORDER_CHANGED}, json_build_object('id', id, 'owner', "userId")::text FROM released`;
    if (recorded > 0) written();
    return recorded > 0;
  }

  return {
    complete,
    giveUp,
    returnFailedStock,
    releaseCancelled,

    async place(ctx: OrdersContext, rawInput: unknown): Promise<Order> {
      const viewer = requireViewer(ctx);
      const input = parseInput(placeOrderInput, rawInput, 'input');
      const key = input.idempotencyKey ?? null;
      let order: Order | undefined;
      while (!order) {
        try {
          order = await db.order.create({ data: { userId: viewer.id, status: 'PENDING', totalAmount: 0, currency: 'USD', idempotencyKey: key } });
        } catch (err) {
          if (!key || !isUniqueViolation(err)) throw err;
          // The key already has an order (sent before, or racing this request): give that one back
          // once it has settled; if it was refused or failed, the loop places the order anew.
          const existing = await settled(viewer.id, key, ctx.requestId);
          if (existing) return existing;
        }
      }

      let reservation: Reservation;
      try {
        reservation = await catalog.reserve(order.id, input.items, ctx.requestId);
      } catch (err) {
        const refusal = err instanceof ServiceError ? err.errors[0] : undefined;
        if (refusal && ORDER_REFUSALS.has(refusal.extensions?.code ?? '')) {
          // Catalog refused the order (unknown product, out of stock, a total too large): nothing was reserved, so nothing stays.
          await db.order.delete({ where: { id: order.id } });
          countOutcome(refusal.extensions?.code === ErrorCode.OUT_OF_STOCK ? 'out_of_stock' : 'refused');
          throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions } });
        }
        // No answer, a late one, or the placement was already given up: catalog may or may not
        // hold stock for it. Make that definite before answering: the order fails and the release
        // returns whatever was taken, or stops a reservation still on its way from taking anything.
        await giveUp(order.id, ctx.requestId).catch((failure: unknown) => {
          options.leftPending?.(order.id);
          throw failure;
        });
        countOutcome('failed');
        ctx.log.warn({ orderId: order.id, err }, 'reservation failed, order marked FAILED');
        throw err instanceof ServiceError ? serviceUnavailable('the order could not be completed; try again') : err;
      }
      if (options.crashAfterReserve) process.exit(86);

      let confirmed: Order;
      let settledHere: boolean;
      try {
        ({ order: confirmed, settledHere } = await complete(order.id, reservation, ctx.requestId));
      } catch (err) {
        if (err instanceof OrderAbandoned) {
          countOutcome('failed');
          ctx.log.error({ orderId: order.id, err: err.cause }, 'order cannot be confirmed: marked FAILED, its stock returned');
          throw internalError('the order could not be completed; nothing was charged and no stock is held');
        }
        ctx.log.warn({ orderId: order.id, err }, 'confirmation deferred to recovery');
        options.leftPending?.(order.id);
        throw serviceUnavailable('the order is not confirmed yet; send it again with the same idempotencyKey to learn its outcome');
      }
      // Recovery gave the order up (and released its stock) while it was being placed.
      if (confirmed.status !== 'CONFIRMED') throw serviceUnavailable('the order could not be completed; try again');
      if (settledHere) countOutcome('confirmed'); // else recovery confirmed it, and counted it
      return confirmed;
    },

    async cancel(ctx: OrdersContext, id: string): Promise<Order> {
      requireViewer(ctx);
      const order = await db.order.findUnique({ where: { id } });
      if (!order) throw notFound('order', id);
      if (!canSee(ctx, order.userId)) throw forbidden('this order belongs to another customer');
      if (order.status !== 'CONFIRMED' && order.status !== 'CANCELLED') {
        throw badUserInput(`a ${order.status} order cannot be cancelled`, 'id');
      }
      // Its event is written with the release (releaseCancelled), so that a subscriber reading the
      // items' stock sees it returned.
      await db.order.updateMany({ where: { id, status: 'CONFIRMED' }, data: { status: 'CANCELLED' } });
      // Releasing is idempotent, so cancelling twice is harmless. If catalog cannot be reached the
      // order stays cancelled and recovery returns the stock later (stockReleasedAt is still null).
      await releaseCancelled(id, ctx.requestId).catch((err) => ctx.log.warn({ orderId: id, err }, 'stock return deferred to recovery'));
      return db.order.findUniqueOrThrow({ where: { id } });
    },
  };
}
