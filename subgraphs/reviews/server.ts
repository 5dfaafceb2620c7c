// The reviews subgraph: ratings and reviews of products by users.
import type { SubgraphModule } from '../../lib/subgraph/server.js';
import { seed } from '../../prisma/reviews/seed.js';
import { catalogClient } from './catalog-client.js';
import { createClient, type ReviewsDb } from './db.js';
import { createContext, type ReviewsContext } from './loaders.js';
import { createResolvers } from './resolvers.js';

export const reviews: SubgraphModule<ReviewsDb, ReviewsContext> = {
  createClient,
  seed,
  define: (db, { config }) => ({
    name: 'reviews',
    resolvers: createResolvers(db, catalogClient(config.subgraphUrls.catalog)),
    context: (base) => createContext(db, base),
  }),
};
