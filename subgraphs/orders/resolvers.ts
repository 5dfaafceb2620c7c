import { canSee, requireViewer } from '../../lib/auth.js';
import { decodeCursor, pageSize, toConnection } from '../../lib/connection.js';
import { forbidden } from '../../lib/errors.js';
import { newestFirstCursor } from '../../lib/paged-query.js';
import { DateTime } from '../../lib/scalars.js';
import type { Order, OrderItem } from './db.js';
import type { OrdersContext } from './loaders.js';
import type { OrderPlacement } from './placement.js';
import { shippingEstimate, type Money } from './shipping.js';

/** Loads an order the viewer may see: null when unknown, FORBIDDEN when it is someone else's. */
async function visibleOrder(ctx: OrdersContext, id: string): Promise<Order | null> {
  requireViewer(ctx);
  const order = await ctx.orders.load(id);
  if (order && !canSee(ctx, order.userId)) throw forbidden('this order belongs to another customer');
  return order;
}

export function createResolvers(placement: OrderPlacement) {
  return {
    DateTime,
    Query: {
      order: (_: unknown, args: { id: string }, ctx: OrdersContext) => visibleOrder(ctx, args.id),
    },
    Mutation: {
      placeOrder: (_: unknown, args: { input: unknown }, ctx: OrdersContext) => placement.place(ctx, args.input),
      cancelOrder: (_: unknown, args: { id: string }, ctx: OrdersContext) => placement.cancel(ctx, args.id),
    },
    Order: {
      __resolveReference: (ref: { id: string }, ctx: OrdersContext) => visibleOrder(ctx, ref.id),
      total: (o: Order): Money => ({ amount: o.totalAmount, currency: o.currency }),
      items: (o: Order, _: unknown, ctx: OrdersContext) => ctx.itemsOfOrder.load(o.id),
      user: (o: Order) => ({ __typename: 'User', id: o.userId }),
    },
    OrderItem: {
      product: (i: OrderItem) => ({ __typename: 'Product', id: i.productId }),
      unitPrice: (i: OrderItem): Money => ({ amount: i.unitPriceAmount, currency: i.currency }),
    },
    User: {
      orders: async (user: { id: string }, args: { first?: number | null; after?: string | null }, ctx: OrdersContext) => {
        requireViewer(ctx);
        if (!canSee(ctx, user.id)) throw forbidden("only the customer and admins can read a customer's orders");
        const first = pageSize(args.first, 10);
        const after = args.after ? decodeCursor(args.after, 2) : null;
        const rows = await ctx.ordersOfUser.load({ parentId: user.id, limit: first + 1, after });
        return toConnection(rows, first, newestFirstCursor, () => ctx.orderCountOfUser.load(user.id));
      },
    },
    Product: {
      shippingEstimate: (p: { price: Money; weightGrams: number }) => shippingEstimate(p.price, p.weightGrams),
    },
  };
}
