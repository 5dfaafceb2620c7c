// The catalog subgraph: categories, products, prices and stock.
import type { SubgraphModule } from '../../lib/subgraph.js';
import { seed } from '../../prisma/catalog/seed.js';
import { createClient, type CatalogDb } from './db.js';
import { createContext, type CatalogContext } from './loaders.js';
import { createResolvers } from './resolvers.js';

export const catalog: SubgraphModule<CatalogDb, CatalogContext> = {
  createClient,
  seed,
  define: (db) => ({
    name: 'catalog',
    resolvers: createResolvers(db),
    context: (base) => createContext(db, base),
  }),
};
