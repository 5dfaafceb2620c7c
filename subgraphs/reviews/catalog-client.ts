// Reviews asks catalog whether a product exists before accepting a review for it.
import { callService } from '../../lib/subgraph/service-client.js';
import type { ReviewsContext } from './loaders.js';
import type { ProductReviewsChecker } from './resolvers.js';

export function catalogClient(catalogUrl: string): ProductReviewsChecker {
  return {
    async productExists(productId: string, ctx: ReviewsContext) {
      const data = await callService<{ product: { id: string } | null }>('catalog', catalogUrl, {
        query: 'query ProductExists($id: ID!) { product(id: $id) { id } }',
        variables: { id: productId },
        requestId: ctx.requestId,
      });
      return data.product !== null;
    },
  };
}
