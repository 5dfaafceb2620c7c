import DataLoader from 'dataloader';
import { loaderById, tracedBatch } from '../../lib/subgraph/loaders.js';
import { pageLoader } from '../../lib/subgraph/paged-query.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { Review, ReviewsDb } from './db.js';

export interface RatingStats {
  count: number;
  average: number | null;
}

export function createContext(db: ReviewsDb, base: BaseContext) {
  return {
    ...base,
    reviews: loaderById((ids) => db.review.findMany({ where: { id: { in: [...ids] } } }), (r) => r.id),
    reviewsOfProduct: pageLoader<Review>(db, 'Review', 'productId'),
    reviewsOfAuthor: pageLoader<Review>(db, 'Review', 'authorId'),
    /** Count and mean rating per product, one GROUP BY for the whole batch. */
    ratingStats: new DataLoader<string, RatingStats>(
      tracedBatch(async (productIds) => {
        const groups = await db.review.groupBy({
          by: ['productId'],
          where: { productId: { in: [...productIds] } },
          _count: { _all: true },
          _avg: { rating: true },
        });
        const byProduct = new Map(groups.map((g) => [g.productId, { count: g._count._all, average: g._avg.rating }]));
        return productIds.map((id) => byProduct.get(id) ?? { count: 0, average: null });
      }),
    ),
  };
}
export type ReviewsContext = ReturnType<typeof createContext>;
