import { canSee, requireViewer } from '../../lib/security/auth.js';
import { decodeCursor, pageSize, toConnection } from '../../lib/subgraph/connection.js';
import { forbidden } from '../../lib/errors.js';
import { newestFirstCursor, newestFirstCursorShape } from '../../lib/subgraph/paged-query.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import type { Order } from './db.js';
import type { Resolvers } from './generated/graphql.js';
import type { OrdersContext } from './loaders.js';
import type { OrderEvents } from './live.js';
import type { OrderPlacement } from './placement.js';
import { shippingEstimate } from './shipping.js';

/** Loads an order the viewer may see: null when unknown, FORBIDDEN when it is someone else's. */
async function visibleOrder(ctx: OrdersContext, id: string): Promise<Order | null> {
  requireViewer(ctx);
  const order = await ctx.orders.load(id);
  if (order && !canSee(ctx, order.userId)) throw forbidden('this order belongs to another customer');
  return order;
}

export function createResolvers(placement: OrderPlacement, live: OrderEvents): Resolvers {
  return {
    DateTime,
    Query: {
      order: (_, { id }, ctx) => visibleOrder(ctx, id),
    },
    Mutation: {
      placeOrder: (_, { input }, ctx) => placement.place(ctx, input),
      cancelOrder: (_, { id }, ctx) => placement.cancel(ctx, id),
    },
    // Each event carries an order id; it is resolved with a fresh context (lib/subgraph/subscriptions.ts).
    Subscription: {
      orderUpdated: { subscribe: (_, { id }, ctx) => live.ofOrder(ctx, id), resolve: (id: string, _: unknown, ctx: OrdersContext) => live.current(ctx, id) },
      myOrderUpdates: { subscribe: (_, __, ctx) => live.ofViewer(ctx), resolve: (id: string, _: unknown, ctx: OrdersContext) => live.current(ctx, id) },
    },
    Order: {
      __resolveReference: (ref, ctx) => visibleOrder(ctx, ref.id),
      total: (o) => ({ amount: o.totalAmount, currency: o.currency }),
      items: (o, _, ctx) => ctx.itemsOfOrder.load(o.id),
      user: (o) => ({ id: o.userId }),
    },
    OrderItem: {
      product: (i) => ({ id: i.productId }),
      unitPrice: (i) => ({ amount: i.unitPriceAmount, currency: i.currency }),
    },
    User: {
      orders: async (user, args, ctx) => {
        requireViewer(ctx);
        if (!canSee(ctx, user.id)) throw forbidden("only the customer and admins can read a customer's orders");
        const first = pageSize(args.first, 10);
        const after = args.after ? decodeCursor(args.after, newestFirstCursorShape) : null;
        const rows = await ctx.ordersOfUser.load({ parentId: user.id, limit: first + 1, after });
        return toConnection(rows, first, newestFirstCursor, () => ctx.orderCountOfUser.load(user.id));
      },
    },
    Product: {
      // price and weightGrams arrive from catalog because of @requires.
      shippingEstimate: (p) => (p.price && p.weightGrams !== undefined ? shippingEstimate(p.price, p.weightGrams) : null),
    },
  };
}
