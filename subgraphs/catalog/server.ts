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
  define: (db, { config, events }) => ({
    name: 'catalog',
    resolvers: createResolvers(db, productEvents(events), { crashBeforeReserveAnswer: config.faults.crashBeforeReserveAnswer }),
    context: (base) => createContext(db, base),
  }),
};
