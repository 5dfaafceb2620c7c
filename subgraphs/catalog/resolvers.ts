import { z } from 'zod';
import { requireAdmin, requireService } from '../../lib/security/auth.js';
import { decodeCursor, pageSize, toConnection } from '../../lib/subgraph/connection.js';
import { newestFirstCursor, newestFirstCursorShape } from '../../lib/subgraph/paged-query.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { parseInput } from '../../lib/subgraph/validation.js';
import { adjustStock, createProduct, MAX_STOCK, updateProduct } from './admin.js';
import type { CatalogDb } from './db.js';
import type { Resolvers } from './generated/graphql.js';
import type { ProductEvents } from './live.js';
import type { CatalogContext } from './loaders.js';
import { listProducts } from './product-list.js';
import { reservations as createReservations } from './reservations.js';

/** The only service allowed to reserve and release stock. */
const ORDERS = 'orders';

/** What the orders service may ask to reserve (it checks its own, tighter limits first). */
const reservationItems = z
  .array(z.object({ productId: z.string(), quantity: z.number().int().min(1, 'quantity must be at least 1').max(MAX_STOCK, `quantity must be at most ${MAX_STOCK}`) }))
  .max(100, 'a reservation has at most 100 items')
  .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear only once');

export interface CatalogFaults {
  /** Test hook (FAULT_CRASH_BEFORE_RESERVE_ANSWER): exit once a reservation committed, before answering it. */
  crashBeforeReserveAnswer?: boolean;
}

export function createResolvers(db: CatalogDb, live: ProductEvents, faults: CatalogFaults = {}): Resolvers {
  const reservations = createReservations(db);
  return {
    DateTime,
    Query: {
      product: (_, { id }, ctx) => ctx.products.load(id),
      productBySku: (_, { sku }, ctx) => ctx.productsBySku.load(sku),
      products: (_, args) => listProducts(db, args),
      categories: () => db.category.findMany({ orderBy: { name: 'asc' } }),
      category: (_, { slug }) => db.category.findUnique({ where: { slug } }),
      reservation: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.find(args.orderId);
      },
      staleReservations: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.stale(args.olderThanSeconds, Math.max(1, Math.min(args.first ?? 100, 500)));
      },
    },
    Mutation: {
      createProduct: (_, args, ctx) => {
        requireAdmin(ctx);
        return createProduct(db, args.input);
      },
      // Each change writes its event in its own transaction (the outbox), for productUpdated.
      updateProduct: async (_, args, ctx) => {
        requireAdmin(ctx);
        const product = await updateProduct(db, args.id, args.input);
        live.written();
        return product;
      },
      adjustStock: async (_, args, ctx) => {
        requireAdmin(ctx);
        const product = await adjustStock(db, args.productId, args.delta);
        live.written();
        return product;
      },
      reserveStock: async (_, args, ctx) => {
        requireService(ctx, ORDERS);
        const reservation = await reservations.reserve(args.orderId, parseInput(reservationItems, args.items, 'items'));
        if (faults.crashBeforeReserveAnswer) process.exit(87);
        live.written();
        return reservation;
      },
      commitStock: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.commit(args.orderId);
      },
      releaseStock: async (_, args, ctx) => {
        requireService(ctx, ORDERS);
        const reservation = await reservations.release(args.orderId);
        live.written();
        return reservation;
      },
    },
    Subscription: {
      productUpdated: {
        subscribe: (_, { ids }, ctx) => live.ofProducts(ids, ctx.resumeAfter),
        resolve: (id: string, _: unknown, ctx: CatalogContext) => live.current(ctx, id),
      },
    },
    ReservationLine: {
      unitPrice: (line) => ({ amount: line.priceAmount, currency: line.currency }),
    },
    Category: {
      __resolveReference: (ref, ctx) => ctx.categories.load(ref.id),
      products: async (category, args, ctx) => {
        const first = pageSize(args.first, 20);
        const after = args.after ? decodeCursor(args.after, newestFirstCursorShape) : null;
        const rows = await ctx.productsOfCategory.load({ parentId: category.id, limit: first + 1, after });
        return toConnection(rows, first, newestFirstCursor, () => ctx.productCountOfCategory.load(category.id));
      },
    },
    Product: {
      __resolveReference: (ref, ctx) => ('id' in ref ? ctx.products.load(ref.id) : ctx.productsBySku.load(ref.sku)),
      price: (p) => ({ amount: p.priceAmount, currency: p.currency }),
      inStock: (p) => p.stock > 0,
      category: async (p, _, ctx) => (await ctx.categories.load(p.categoryId))!,
    },
  };
}
