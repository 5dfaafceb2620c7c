// Placing and cancelling orders: a saga over two services. The order is written PENDING first,
// then catalog reserves the stock (at catalog's prices), then the order is confirmed with those
// prices. Every step is idempotent per order id; `recovery.ts` finishes what a crash interrupted.
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { canSee, requireViewer } from '../../lib/auth.js';
import { badUserInput, ErrorCode, forbidden, notFound, serviceUnavailable } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { ServiceError } from '../../lib/service-client.js';
import { parseInput } from '../../lib/validation.js';
import type { CatalogStock, Reservation } from './catalog-stock.js';
import type { Order, OrdersDb } from './db.js';
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

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === 'P2002';

export interface PlacementOptions {
  /** Test hook: exit the process right after the reservation, before the order is confirmed. */
  crashAfterReserve?: boolean;
}

export type OrderPlacement = ReturnType<typeof orderPlacement>;

export function orderPlacement(db: OrdersDb, catalog: CatalogStock, log: Logger, options: PlacementOptions = {}) {
  /** Writes the reserved lines and prices into the order and confirms it (once). */
  async function confirm(orderId: string, reservation: Reservation): Promise<Order> {
    const currency = reservation.lines[0]?.unitPrice.currency ?? 'USD';
    const total = reservation.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0);
    return db.$transaction(async (tx) => {
      const { count } = await tx.order.updateMany({ where: { id: orderId, status: 'PENDING' }, data: { status: 'CONFIRMED', totalAmount: total, currency } });
      if (count === 1) {
        await tx.orderItem.createMany({
          data: reservation.lines.map((l) => ({ orderId, productId: l.productId, quantity: l.quantity, unitPriceAmount: l.unitPrice.amount, currency: l.unitPrice.currency })),
        });
      }
      return tx.order.findUniqueOrThrow({ where: { id: orderId } });
    });
  }

  /** Marks a PENDING order FAILED and frees its idempotency key, so a retry can place it anew. */
  const fail = (orderId: string) => db.order.updateMany({ where: { id: orderId, status: 'PENDING' }, data: { status: 'FAILED', idempotencyKey: null } });

  /**
   * A concurrent request with the same key owns the order: wait until it settles. Null when that
   * order is gone (catalog refused it), so this request places the order itself.
   */
  async function settled(userId: string, key: string): Promise<Order | null> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const order = await db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey: key } } });
      if (!order || order.status !== 'PENDING') return order;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw serviceUnavailable('the order with this idempotencyKey is still being placed; try again');
  }

  /** Gives a cancelled order's stock back to catalog and records that it did. */
  async function releaseCancelled(orderId: string, requestId?: string) {
    await catalog.release(orderId, requestId);
    await db.order.updateMany({ where: { id: orderId, stockReleasedAt: null }, data: { stockReleasedAt: new Date() } });
  }

  return {
    confirm,
    fail,
    releaseCancelled,

    async place(ctx: OrdersContext, rawInput: unknown): Promise<Order> {
      const viewer = requireViewer(ctx);
      const input = parseInput(placeOrderInput, rawInput, 'input');
      const key = input.idempotencyKey ?? null;
      let order: Order | undefined;
      while (!order) {
        if (key) {
          const existing = await settled(viewer.id, key);
          if (existing) return existing;
        }
        try {
          order = await db.order.create({ data: { userId: viewer.id, status: 'PENDING', totalAmount: 0, currency: 'USD', idempotencyKey: key } });
        } catch (err) {
          if (!key || !isUniqueViolation(err)) throw err;
          // Lost the race for this key: the loop waits for the winner's order.
        }
      }

      let reservation: Reservation;
      try {
        reservation = await catalog.reserve(order.id, input.items, ctx.requestId);
      } catch (err) {
        const refusal = err instanceof ServiceError ? err.errors[0] : undefined;
        if (refusal && ORDER_REFUSALS.has(refusal.extensions?.code ?? '')) {
          // Catalog refused the order (unknown product, out of stock): nothing was reserved, so nothing stays.
          await db.order.delete({ where: { id: order.id } });
          throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions } });
        }
        // Catalog unreachable, too slow, or the placement was already given up: catalog may or may
        // not hold stock for it. The order fails now; recovery releases whatever catalog holds.
        await fail(order.id);
        ctx.log.warn({ orderId: order.id, err }, 'reservation failed, order marked FAILED');
        throw err instanceof ServiceError ? serviceUnavailable('the order could not be completed; try again') : err;
      }
      if (options.crashAfterReserve) process.exit(86);

      const confirmed = await confirm(order.id, reservation);
      // Recovery gave the order up (and released its stock) while it was being placed.
      if (confirmed.status !== 'CONFIRMED') throw serviceUnavailable('the order could not be completed; try again');
      await catalog.commit(order.id, ctx.requestId).catch((err) => log.warn({ orderId: order.id, err }, 'commit deferred to recovery'));
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
      await db.order.updateMany({ where: { id, status: 'CONFIRMED' }, data: { status: 'CANCELLED' } });
      // Releasing is idempotent, so cancelling twice is harmless. If catalog cannot be reached the
      // order stays cancelled and recovery returns the stock later (stockReleasedAt is still null).
      await releaseCancelled(id, ctx.requestId).catch((err) => ctx.log.warn({ orderId: id, err }, 'stock return deferred to recovery'));
      return db.order.findUniqueOrThrow({ where: { id } });
    },
  };
}
