// Order events: written into orders' outbox in the same statement as a status change, published
// from there (lib/subgraph/outbox.ts), read by its subscription fields on every replica. An event
// names the order and its owner; the subscriber reads the order as it is now, so coalesced events
// never show a stale status.
import { canSee, requireViewer } from '../../lib/security/auth.js';
import { forbidden, notFound } from '../../lib/errors.js';
import type { EventChannel, EventStream } from '../../lib/subgraph/events.js';
import type { OrdersContext } from './loaders.js';

export const ORDER_CHANGED = 'orders_order_changed';

export type OrderEvents = ReturnType<typeof orderEvents>;

export function orderEvents(events: EventChannel) {
  return {

    /** One order's changes, starting with its current state; the owner and admins only. */
    async ofOrder(ctx: OrdersContext, id: string): Promise<EventStream> {
      requireViewer(ctx);
      const stream = await events.subscribe(ORDER_CHANGED, (e) => e.id === id, { after: ctx.resumeAfter });
      // Read after listening: a change between the two is an event, never a gap.
      const order = await ctx.orders.load(id);
      if (!order || !canSee(ctx, order.userId)) {
        await stream.return?.();
        if (!order) throw notFound('order', id);
        throw forbidden('this order belongs to another customer');
      }
      // Resumed: the subscriber had the state and the events since are replayed.
      if (!stream.resumed) stream.push(id);
      return stream;
    },

    /** The viewer's orders as they change (an admin's: every order); a replay passes the same filter. */
    async ofViewer(ctx: OrdersContext): Promise<EventStream> {
      const viewer = requireViewer(ctx);
      return events.subscribe(ORDER_CHANGED, (e) => viewer.role === 'ADMIN' || e.owner === viewer.id, { after: ctx.resumeAfter });
    },

    /** The order an event names, as it is now, checked again (a fresh context per event). */
    async current(ctx: OrdersContext, id: string) {
      const order = await ctx.orders.load(id);
      if (!order) throw notFound('order', id);
      if (!canSee(ctx, order.userId)) throw forbidden('this order belongs to another customer');
      return order;
    },
  };
}
