import DataLoader from 'dataloader';
import { loaderById, tracedBatch } from '../../lib/subgraph/loaders.js';
import { pageLoader } from '../../lib/subgraph/paged-query.js';
import { rowsByKey } from '../../lib/subgraph/rows-by-key.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { Review, ReviewsDb } from './db.js';

export interface RatingStats {
  count: number;
  average: number | null;
}

export function createContext(db: ReviewsDb, base: BaseContext) {
  return {
    ...base,
    reviews: loaderById(rowsByKey<Review>(db, { table: 'Review', column: 'id', dates: ['createdAt'] }), (r) => r.id),
    reviewsOfProduct: pageLoader<Review>(db, 'Review', 'productId'),
    reviewsOfAuthor: pageLoader<Review>(db, 'Review', 'authorId'),
    /** Count and mean rating per product, one GROUP BY for the whole batch (raw SQL: every product page asks, see rows-by-key.ts). */
    ratingStats: new DataLoader<string, RatingStats>(
      tracedBatch(async (productIds) => {
        const placeholders = productIds.map((_, i) => `$${i + 1}`).join(', ');
        const groups = await db.$queryRawUnsafe<(RatingStats & { productId: string })[]>(
          `SELECT "productId", count(*)::int AS count, avg(rating)::float8 AS average FROM "Review" WHERE "productId" IN (${placeholders}) GROUP BY "productId"`,
          ...productIds,
        );
        const byProduct = new Map(groups.map((g) => [g.productId, { count: g.count, average: g.average }]));
        return productIds.map((id) => byProduct.get(id) ?? { count: 0, average: null });
      }),
    ),
  };
}
export type ReviewsContext = ReturnType<typeof createContext>;
