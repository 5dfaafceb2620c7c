import { requireAdmin, requireService } from '../../lib/auth.js';
import { DateTime } from '../../lib/scalars.js';
import { adjustStock, createProduct, updateProduct } from './admin.js';
import type { CatalogDb } from './db.js';
import type { Resolvers } from './generated/graphql.js';
import { listProducts } from './product-list.js';
import { reservations as createReservations } from './reservations.js';

/** The only service allowed to reserve and release stock. */
const ORDERS = 'orders';

export function createResolvers(db: CatalogDb): Resolvers {
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
      updateProduct: (_, args, ctx) => {
        requireAdmin(ctx);
        return updateProduct(db, args.id, args.input);
      },
      adjustStock: (_, args, ctx) => {
        requireAdmin(ctx);
        return adjustStock(db, args.productId, args.delta);
      },
      reserveStock: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.reserve(args.orderId, args.items);
      },
      commitStock: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.commit(args.orderId);
      },
      releaseStock: (_, args, ctx) => {
        requireService(ctx, ORDERS);
        return reservations.release(args.orderId);
      },
    },
    ReservationLine: {
      unitPrice: (line) => ({ amount: line.priceAmount, currency: line.currency }),
    },
    Category: {
      __resolveReference: (ref, ctx) => ctx.categories.load(ref.id),
      products: (category, args) =>
        listProducts(db, { ...args, orderBy: { field: 'CREATED_AT', direction: 'DESC' } }, { categoryId: category.id }),
    },
    Product: {
      __resolveReference: (ref, ctx) => ('id' in ref ? ctx.products.load(ref.id) : ctx.productsBySku.load(ref.sku)),
      price: (p) => ({ amount: p.priceAmount, currency: p.currency }),
      inStock: (p) => p.stock > 0,
      category: async (p, _, ctx) => (await ctx.categories.load(p.categoryId))!,
    },
  };
}
