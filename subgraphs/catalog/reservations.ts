// Stock reservations: the catalog's half of placing an order. Each step is one transaction and
// idempotent per order id, so the orders service can retry any of them after a crash.
import { badUserInput, conflict, outOfStock } from '../../lib/errors.js';
import type { CatalogDb, Prisma } from './db.js';

export interface ReservationItem {
  productId: string;
  quantity: number;
}

const withLines = { lines: { orderBy: { productId: 'asc' } } } as const satisfies Prisma.StockReservationInclude;
// Every order placed at once queues on the same rows; give the queue time before giving up.
const TX_OPTIONS = { maxWait: 30_000, timeout: 30_000 };

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === 'P2002';

/** Reserving again returns the reservation, unless it was released: then the order was given up. */
function held<R extends { status: string }>(reservation: R): R {
  if (reservation.status === 'RELEASED') throw conflict('the reservation for this order was released');
  return reservation;
}

export function reservations(db: CatalogDb) {
  const find = (orderId: string) => db.stockReservation.findUnique({ where: { orderId }, include: withLines });

  return {
    find,

    stale: (olderThanSeconds: number, first: number) =>
      db.stockReservation.findMany({
        where: { status: 'RESERVED', createdAt: { lt: new Date(Date.now() - olderThanSeconds * 1000) } },
        include: withLines,
        orderBy: { createdAt: 'asc' },
        take: first,
      }),

    /** Takes the stock of every item or of none, and records the prices of this moment. */
    async reserve(orderId: string, items: ReservationItem[]) {
      const existing = await find(orderId);
      if (existing) return held(existing);
      if (items.length === 0) throw badUserInput('a reservation needs at least one item', 'items');
      // Sorted, so concurrent reservations lock rows in the same order and never deadlock.
      const sorted = [...items].sort((a, b) => a.productId.localeCompare(b.productId));
      try {
        return await db.$transaction(async (tx) => {
          // The primary key on orderId makes a concurrent second reserve for this order fail here.
          await tx.stockReservation.create({ data: { orderId } });
          for (const item of sorted) {
            // A conditional decrement: the row lock makes concurrent orders queue, and the
            // condition (with the CHECK constraint behind it) never lets stock go below zero.
            const { count } = await tx.product.updateMany({
              where: { id: item.productId, stock: { gte: item.quantity } },
              data: { stock: { decrement: item.quantity } },
            });
            if (count === 0) {
              const product = await tx.product.findUnique({ where: { id: item.productId }, select: { stock: true, name: true } });
              const field = `input.items[${items.indexOf(item)}].productId`;
              if (!product) throw badUserInput(`product ${JSON.stringify(item.productId)} does not exist`, field);
              throw outOfStock(`only ${product.stock} of "${product.name}" left`, field);
            }
          }
          // Read after the decrements: the rows are locked by now, so these are the prices of this moment.
          const products = await tx.product.findMany({ where: { id: { in: sorted.map((s) => s.productId) } } });
          if (new Set(products.map((p) => p.currency)).size > 1) {
            throw badUserInput('products priced in different currencies cannot be ordered together', 'input.items');
          }
          const price = new Map(products.map((p) => [p.id, p]));
          await tx.reservationLine.createMany({
            data: sorted.map((s) => ({
              orderId,
              productId: s.productId,
              quantity: s.quantity,
              priceAmount: price.get(s.productId)!.priceAmount,
              currency: price.get(s.productId)!.currency,
            })),
          });
          return tx.stockReservation.findUniqueOrThrow({ where: { orderId }, include: withLines });
        }, TX_OPTIONS);
      } catch (err) {
        if (isUniqueViolation(err)) {
          const raced = await find(orderId);
          if (raced) return held(raced);
        }
        throw err;
      }
    },

    async commit(orderId: string) {
      const { count } = await db.stockReservation.updateMany({ where: { orderId, status: 'RESERVED' }, data: { status: 'COMMITTED' } });
      const reservation = await find(orderId);
      if (!reservation) throw badUserInput(`no reservation for order ${JSON.stringify(orderId)}`, 'orderId');
      if (count === 0 && reservation.status === 'RELEASED') throw conflict('the reservation was released');
      return reservation;
    },

    /** Returns the stock once, however often it is called; leaves a RELEASED record either way. */
    async release(orderId: string) {
      return db.$transaction(async (tx) => {
        const existing = await tx.stockReservation.findUnique({ where: { orderId }, include: withLines });
        if (!existing) {
          await tx.stockReservation.create({ data: { orderId, status: 'RELEASED' } });
        } else {
          // The status change is the gate: only the call that flips it gives the stock back.
          const { count } = await tx.stockReservation.updateMany({ where: { orderId, status: { not: 'RELEASED' } }, data: { status: 'RELEASED' } });
          if (count === 1) {
            for (const line of existing.lines) {
              await tx.product.update({ where: { id: line.productId }, data: { stock: { increment: line.quantity } } });
            }
          }
        }
        return tx.stockReservation.findUniqueOrThrow({ where: { orderId }, include: withLines });
      }, TX_OPTIONS);
    },
  };
}
