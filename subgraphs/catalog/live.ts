// Product events: published after a change of stock, price or name committed (lib/subgraph/events.ts), read
// by `productUpdated` on every catalog replica. An event names the product; the subscriber reads
// the product as it is now.
import { badUserInput, notFound } from '../../lib/errors.js';
import type { EventChannel, EventStream } from '../../lib/subgraph/events.js';
import type { CatalogContext } from './loaders.js';

export const PRODUCT_CHANGED = 'catalog_product_changed';
/** Products one subscription may watch: a product page, a cart, a wish list. */
export const MAX_WATCHED_PRODUCTS = 100;

export type ProductEvents = ReturnType<typeof productEvents>;

export function productEvents(events: EventChannel) {
  return {
    /** After the change committed: tells every replica that these products changed. */
    async changed(productIds: Iterable<string>): Promise<void> {
      for (const id of new Set(productIds)) await events.publish(PRODUCT_CHANGED, { id });
    },

    /** The products' changes, starting with their current state. */
    async ofProducts(ids: readonly string[]): Promise<EventStream> {
      if (ids.length === 0) throw badUserInput('name at least one product', 'ids');
      if (ids.length > MAX_WATCHED_PRODUCTS) throw badUserInput(`at most ${MAX_WATCHED_PRODUCTS} products per subscription`, 'ids');
      const watched = new Set(ids);
      const stream = await events.subscribe(PRODUCT_CHANGED, (e) => watched.has(e.id));
      for (const id of watched) stream.push(id);
      return stream;
    },

    /** The product an event names, as it is now (a fresh context per event). */
    async current(ctx: CatalogContext, id: string) {
      const product = await ctx.products.load(id);
      if (!product) throw notFound('product', id);
      return product;
    },
  };
}
