import { z } from 'zod';
import { requireViewer } from '../../lib/security/auth.js';
import { decodeCursor, pageSize, toConnection } from '../../lib/subgraph/connection.js';
import { isUniqueViolation } from '../../lib/data/database.js';
import { badUserInput } from '../../lib/errors.js';
import { newestFirstCursor, newestFirstCursorShape } from '../../lib/subgraph/paged-query.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { parseInput } from '../../lib/subgraph/validation.js';
import type { ReviewsDb } from './db.js';
import type { Resolvers } from './generated/graphql.js';
import type { ReviewsContext } from './loaders.js';

const addReviewInput = z.object({
  productId: z.string().min(1, 'productId must not be empty').max(64),
  rating: z.number().int().min(1, 'rating must be between 1 and 5').max(5, 'rating must be between 1 and 5'),
  body: z.string().trim().max(2000, 'body must be at most 2000 characters').nullish(),
});

export interface ProductReviewsChecker {
  /** Whether the product exists in the catalog (reviews does not own products). */
  productExists(productId: string, ctx: ReviewsContext): Promise<boolean>;
}

export function createResolvers(db: ReviewsDb, products: ProductReviewsChecker): Resolvers {
  return {
    DateTime,
    Mutation: {
      addReview: async (_, args, ctx) => {
        const viewer = requireViewer(ctx);
        const input = parseInput(addReviewInput, args.input, 'input');
        if (!(await products.productExists(input.productId, ctx))) {
          throw badUserInput(`product ${JSON.stringify(input.productId)} does not exist`, 'input.productId');
        }
        try {
          return await db.review.create({
            data: { productId: input.productId, authorId: viewer.id, rating: input.rating, body: input.body || null },
          });
        } catch (err) {
          if (isUniqueViolation(err)) throw badUserInput('you have already reviewed this product', 'input.productId');
          throw err;
        }
      },
    },
    Review: {
      __resolveReference: (ref, ctx) => ctx.reviews.load(ref.id),
      author: (r) => ({ id: r.authorId }),
      product: (r) => ({ id: r.productId }),
    },
    Product: {
      reviews: async (product, args, ctx) => {
        const first = pageSize(args.first, 10);
        const after = args.after ? decodeCursor(args.after, newestFirstCursorShape) : null;
        const rows = await ctx.reviewsOfProduct.load({ parentId: product.id, limit: first + 1, after });
        return toConnection(rows, first, newestFirstCursor, async () => (await ctx.ratingStats.load(product.id)).count);
      },
      averageRating: async (product, _, ctx) => {
        const { average } = await ctx.ratingStats.load(product.id);
        return average === null ? null : Math.round(average * 100) / 100;
      },
      reviewCount: async (product, _, ctx) => (await ctx.ratingStats.load(product.id)).count,
    },
    User: {
      reviews: (user, args, ctx) =>
        ctx.reviewsOfAuthor.load({ parentId: user.id, limit: pageSize(args.first, 20), after: null }),
    },
  };
}
