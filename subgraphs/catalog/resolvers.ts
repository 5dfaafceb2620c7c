import { requireAdmin, requireService } from '../../lib/auth.js';
import { DateTime } from '../../lib/scalars.js';
import { adjustStock, createProduct, updateProduct } from './admin.js';
import type { CatalogDb, Category, Product } from './db.js';
import type { CatalogContext } from './loaders.js';
import { listProducts, type ProductListArgs } from './product-list.js';
import { reservations as createReservations, type ReservationItem } from './reservations.js';

/** The only service allowed to reserve and release stock. */
const ORDERS = 'orders';

export function createResolvers(db: CatalogDb) {
  const reservations = createReservations(db);
  return {
    DateTime,
    Query: {
      product: (_: unknown, args: { id: string }, ctx: CatalogContext) => ctx.products.load(args.id),
      productBySku: (_: unknown, args: { sku: string }, ctx: CatalogContext) => ctx.productsBySku.load(args.sku),
      products: (_: unknown, args: ProductListArgs) => listProducts(db, args),
      categories: () => db.category.findMany({ orderBy: { name: 'asc' } }),
      category: (_: unknown, args: { slug: string }) => db.category.findUnique({ where: { slug: args.slug } }),
      reservation: (_: unknown, args: { orderId: string }, ctx: CatalogContext) => {
        requireService(ctx, ORDERS);
        return reservations.find(args.orderId);
      },
      staleReservations: (_: unknown, args: { olderThanSeconds: number; first: number }, ctx: CatalogContext) => {
        requireService(ctx, ORDERS);
        return reservations.stale(args.olderThanSeconds, Math.min(args.first, 500));
      },
    },
    Mutation: {
      createProduct: (_: unknown, args: { input: unknown }, ctx: CatalogContext) => {
        requireAdmin(ctx);
        return createProduct(db, args.input);
      },
      updateProduct: (_: unknown, args: { id: string; input: unknown }, ctx: CatalogContext) => {
        requireAdmin(ctx);
        return updateProduct(db, args.id, args.input);
      },
      adjustStock: (_: unknown, args: { productId: string; delta: number }, ctx: CatalogContext) => {
        requireAdmin(ctx);
        return adjustStock(db, args.productId, args.delta);
      },
      reserveStock: (_: unknown, args: { orderId: string; items: ReservationItem[] }, ctx: CatalogContext) => {
        requireService(ctx, ORDERS);
        return reservations.reserve(args.orderId, args.items);
      },
      commitStock: (_: unknown, args: { orderId: string }, ctx: CatalogContext) => {
        requireService(ctx, ORDERS);
        return reservations.commit(args.orderId);
      },
      releaseStock: (_: unknown, args: { orderId: string }, ctx: CatalogContext) => {
        requireService(ctx, ORDERS);
        return reservations.release(args.orderId);
      },
    },
    ReservationLine: {
      unitPrice: (line: { priceAmount: number; currency: string }) => ({ amount: line.priceAmount, currency: line.currency }),
    },
    Category: {
      __resolveReference: (ref: { id: string }, ctx: CatalogContext) => ctx.categories.load(ref.id),
      products: (category: Category, args: Pick<ProductListArgs, 'first' | 'after'>) =>
        listProducts(db, { ...args, orderBy: { field: 'CREATED_AT', direction: 'DESC' } }, { categoryId: category.id }),
    },
    Product: {
      __resolveReference: (ref: { id?: string; sku?: string }, ctx: CatalogContext) =>
        ref.id ? ctx.products.load(ref.id) : ctx.productsBySku.load(ref.sku ?? ''),
      price: (p: Product) => ({ amount: p.priceAmount, currency: p.currency }),
      inStock: (p: Product) => p.stock > 0,
      category: (p: Product, _: unknown, ctx: CatalogContext) => ctx.categories.load(p.categoryId),
    },
  };
}
