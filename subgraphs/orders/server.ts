// The orders subgraph: orders, their items and prices, placing and cancelling them.
import type { SubgraphModule } from '../../lib/subgraph/server.js';
import { seed } from '../../prisma/orders/seed.js';
import { catalogStock } from './catalog-stock.js';
import { createClient, type OrdersDb } from './db.js';
import { orderEvents } from './live.js';
import { createContext, type OrdersContext } from './loaders.js';
import { orderPlacement } from './placement.js';
import { orderRecovery } from './recovery.js';
import { createResolvers } from './resolvers.js';

export const orders: SubgraphModule<OrdersDb, OrdersContext> = {
  createClient,
  seed,
  outbox: true,
  define: (db, { config, tokens, logger: log, events, outbox }) => {
    const catalog = catalogStock(config.subgraphUrls.catalog, tokens);
    const live = orderEvents(events);
    // The placement hands orders it stopped on to recovery, made just below (before any request).
    const placement = orderPlacement(db, catalog, log, {
      crashAfterReserve: config.faults.crashAfterReserve,
      written: outbox.wake,
      leftPending: (orderId) => recovery.settleSoon(orderId),
    });
    const recovery = orderRecovery(db, catalog, placement, log, config.recovery);
    recovery.start();
    return {
      name: 'orders',
      resolvers: createResolvers(placement, live),
      context: (base) => createContext(db, base),
      close: () => recovery.stop(),
    };
  },
};
