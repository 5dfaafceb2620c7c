// Stock reservations: the catalog's half of placing an order. Each step is idempotent per order
// id, so the orders service can retry any of them after a crash or a timeout.
import { GRAPHQL_MAX_INT } from 'graphql';
import { isUniqueViolation } from '../../lib/data/database.js';
import { badUserInput, conflict, outOfStock, serviceUnavailable } from '../../lib/errors.js';
import type { CatalogDb, Prisma, ReservationWithLines } from './db.js';
import { PRODUCT_CHANGED, productChanged } from './live.js';

export interface ReservationItem {
  productId: string;
  quantity: number;
}

/** An item with the price it is reserved at. */
interface PricedItem extends ReservationItem {
  priceAmount: number;
  currency: string;
}

const withLines = { lines: { orderBy: { productId: 'asc' } } } as const satisfies Prisma.StockReservationInclude;
// Releasing reads the lines it gives back in its transaction; under a rush it may queue a while.
const TX_OPTIONS = { maxWait: 30_000, timeout: 30_000 };
/** How often a reservation reads again when stock or a price changed between its read and its write. */
const ATTEMPTS = 5;

/** Reserving again returns the reservation, unless it was released: then the order was given up. */
function held<R extends { status: string }>(reservation: R): R {
  if (reservation.status === 'RELEASED') throw conflict('the reservation for this order was released');
  return reservation;
}

export function reservations(db: CatalogDb) {
  const find = (orderId: string) => db.stockReservation.findUnique({ where: { orderId }, include: withLines });

  /**
   * Prices the items without locking anything, and refuses what cannot be ordered: an unknown
   * product, mixed currencies, a total that an order cannot hold (Money.amount and the orders'
   * columns are 32-bit), more than the stock. Most refusals under a rush end here, lock-free.
   */
  async function quote(items: ReservationItem[]): Promise<PricedItem[]> {
    const field = (index: number) => `input.items[${index}].productId`;
    const rows = await db.product.findMany({
      where: { id: { in: items.map((i) => i.productId) } },
      select: { id: true, name: true, stock: true, priceAmount: true, currency: true },
    });
    const products = new Map(rows.map((p) => [p.id, p]));
    const priced = items.map((item, index) => {
      const product = products.get(item.productId);
      if (!product) throw badUserInput(`product ${JSON.stringify(item.productId)} does not exist`, field(index));
      return { ...item, product };
    });
    if (new Set(priced.map((i) => i.product.currency)).size > 1) {
      throw badUserInput('products priced in different currencies cannot be ordered together', 'input.items');
    }
    const total = priced.reduce((sum, i) => sum + i.quantity * i.product.priceAmount, 0);
    if (total > GRAPHQL_MAX_INT) {
      throw badUserInput(`the order total of ${total} is more than one order can hold (${GRAPHQL_MAX_INT}); split it into smaller orders`, 'input.items');
    }
    priced.forEach((i, index) => {
      if (i.product.stock < i.quantity) throw outOfStock(`only ${i.product.stock} of "${i.product.name}" left`, field(index));
    });
    return priced.map(({ product, ...item }) => ({ ...item, priceAmount: product.priceAmount, currency: product.currency }));
  }

  /**
   * Takes the stock of every item at its quoted price, or of none, and records the reservation, in
   * one statement: the product rows stay locked only while it runs, never across round trips.
   * Rows are locked in id order, so orders over the same products never deadlock; the decrement is
   * conditional, and the CHECK (stock >= 0) stands behind it. Null when the stock, a price or a
   * currency changed since the quote. Fails with a unique violation when the order already has a
   * reservation (or a release), which then takes nothing.
   */
  async function take(orderId: string, items: PricedItem[]): Promise<ReservationWithLines | null> {
    const now = new Date();
    const lines = await db.$queryRaw<ReservationWithLines['lines']>`
      WITH wanted AS (
        SELECT * FROM unnest(${items.map((i) => i.productId)}::text[], ${items.map((i) => i.quantity)}::int[],
                             ${items.map((i) => i.priceAmount)}::int[], ${items.map((i) => i.currency)}::text[])
          AS w("productId", quantity, "priceAmount", currency)
      ), locked AS (
        SELECT p.id, p.stock, p."priceAmount", p.currency FROM "Product" p
        WHERE p.id IN (SELECT "productId" FROM wanted) ORDER BY p.id FOR UPDATE
      ), available AS (
        SELECT count(*) = ${items.length} AS ok FROM locked l JOIN wanted w ON w."productId" = l.id
        WHERE l.stock >= w.quantity AND l."priceAmount" = w."priceAmount" AND l.currency = w.currency
      ), taken AS (
        UPDATE "Product" p SET stock = p.stock - w.quantity, "updatedAt" = ${now}
        FROM wanted w, available a WHERE a.ok AND p.id = w."productId"
      ), events AS (
        INSERT INTO "OutboxEvent" (topic, payload)
        SELECT ${PRODUCT_CHANGED}, json_build_object('id', w."productId")::text FROM wanted w, available a WHERE a.ok
      ), reservation AS (
        INSERT INTO "StockReservation" ("orderId", status, "createdAt", "updatedAt")
        SELECT ${orderId}, 'RESERVED', ${now}, ${now} FROM available WHERE ok
        RETURNING "orderId"
      )
      INSERT INTO "ReservationLine" ("orderId", "productId", quantity, "priceAmount", currency)
      SELECT r."orderId", w."productId", w.quantity, w."priceAmount", w.currency FROM reservation r, wanted w
      ORDER BY w."productId"
      RETURNING "orderId", "productId", quantity, "priceAmount", currency`;
    if (lines.length === 0) return null;
    return { orderId, status: 'RESERVED', createdAt: now, updatedAt: now, lines };
  }

  return {
    find,

    stale: (olderThanSeconds: number, first: number) =>
      db.stockReservation.findMany({
        where: { status: 'RESERVED', createdAt: { lt: new Date(Date.now() - olderThanSeconds * 1000) } },
        include: withLines,
        orderBy: { createdAt: 'asc' },
        take: first,
      }),

    /** Takes the stock of every item or of none, at the prices of this moment. */
    async reserve(orderId: string, items: ReservationItem[]): Promise<ReservationWithLines> {
      if (items.length === 0) throw badUserInput('a reservation needs at least one item', 'items');
      if (new Set(items.map((i) => i.productId)).size !== items.length) throw badUserInput('each product may appear only once', 'items');
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const existing = await find(orderId);
        if (existing) return held(existing);
        try {
          const reservation = await take(orderId, await quote(items));
          if (reservation) return reservation;
          // Another order took the stock (or a price changed) since the quote: quote again.
        } catch (err) {
          // A concurrent reserve or a release recorded this order first: the next pass returns that record.
          if (!isUniqueViolation(err)) throw err;
        }
      }
      throw serviceUnavailable('the stock kept changing while it was being reserved; try again');
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
      const release = () =>
        db.$transaction(async (tx) => {
          const existing = await tx.stockReservation.findUnique({ where: { orderId }, include: withLines });
          if (!existing) {
            // Fails with a unique violation if a reservation arrives meanwhile; the retry below releases it.
            await tx.stockReservation.create({ data: { orderId, status: 'RELEASED' } });
          } else {
            // The status change is the gate: only the call that flips it gives the stock back.
            const { count } = await tx.stockReservation.updateMany({ where: { orderId, status: { not: 'RELEASED' } }, data: { status: 'RELEASED' } });
            if (count === 1) {
              for (const line of existing.lines) {
                await tx.product.update({ where: { id: line.productId }, data: { stock: { increment: line.quantity } } });
              }
              if (existing.lines.length > 0) await productChanged(tx, existing.lines.map((l) => l.productId));
            }
          }
          return tx.stockReservation.findUniqueOrThrow({ where: { orderId }, include: withLines });
        }, TX_OPTIONS);
      try {
        return await release();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return release();
      }
    },
  };
}
