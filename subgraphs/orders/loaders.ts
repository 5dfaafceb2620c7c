import DataLoader from 'dataloader';
import { loaderById, loaderGroupedBy, tracedBatch } from '../../lib/subgraph/loaders.js';
import { pageLoader } from '../../lib/subgraph/paged-query.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { Order, OrdersDb } from './db.js';

export function createContext(db: OrdersDb, base: BaseContext) {
  return {
    ...base,
    orders: loaderById((ids) => db.order.findMany({ where: { id: { in: [...ids] } } }), (o) => o.id),
    itemsOfOrder: loaderGroupedBy((ids) => db.orderItem.findMany({ where: { orderId: { in: [...ids] } }, orderBy: { id: 'asc' } }), (i) => i.orderId),
    ordersOfUser: pageLoader<Order>(db, 'Order', 'userId'),
    orderCountOfUser: new DataLoader<string, number>(
      tracedBatch(async (userIds) => {
        const groups = await db.order.groupBy({ by: ['userId'], where: { userId: { in: [...userIds] } }, _count: { _all: true } });
        const counts = new Map(groups.map((g) => [g.userId, g._count._all]));
        return userIds.map((id) => counts.get(id) ?? 0);
      }),
    ),
  };
}
export type OrdersContext = ReturnType<typeof createContext>;
