// The catalog subgraph: categories, products, prices and stock.
import type { SubgraphModule } from '../../lib/subgraph/server.js';
import { seed } from '../../prisma/catalog/seed.js';
import { createClient, type CatalogDb } from './db.js';
import { productEvents } from './live.js';
import { createContext, type CatalogContext } from './loaders.js';
import { createResolvers } from './resolvers.js';

export const catalog: SubgraphModule<CatalogDb, CatalogContext> = {
  createClient,
  seed,
  outbox: true,
  define: (db, { config, events, outbox }) => ({
    name: 'catalog',
    resolvers: createResolvers(db, productEvents(events, outbox), { crashBeforeReserveAnswer: config.faults.crashBeforeReserveAnswer }),
    context: (base) => createContext(db, base),
  }),
};
