// Product events: written into catalog's outbox in the same transaction as a change of stock,
// price or name, published from there (lib/subgraph/outbox.ts), read by `productUpdated` on every
// catalog replica. An event names the product; the subscriber reads the product as it is now.
import { badUserInput, notFound } from '../../lib/errors.js';
import type { EventChannel, EventStream } from '../../lib/subgraph/events.js';
import type { Outbox } from '../../lib/subgraph/outbox.js';
import type { Prisma } from './db.js';
import type { CatalogContext } from './loaders.js';

export const PRODUCT_CHANGED = 'catalog_product_changed';
/** Products one subscription may watch: a product page, a cart, a wish list. */
export const MAX_WATCHED_PRODUCTS = 100;

export type ProductEvents = ReturnType<typeof productEvents>;

/** The outbox rows saying these products changed, for a change's own transaction. */
export const productChanged = (tx: Prisma.TransactionClient, productIds: Iterable<string>) =>
  tx.outboxEvent.createMany({ data: [...new Set(productIds)].map((id) => ({ topic: PRODUCT_CHANGED, payload: JSON.stringify({ id }) })) });

export function productEvents(events: EventChannel, outbox: Pick<Outbox, 'wake'>) {
  return {
    /** After a change that wrote events committed: publish them now rather than at the outbox's next look. */
    written(): void {
      outbox.wake();
    },

    /** The products' changes, starting with their current state. */
    async ofProducts(ids: readonly string[], resumeAfter?: string): Promise<EventStream> {
      if (ids.length === 0) throw badUserInput('name at least one product', 'ids');
      if (ids.length > MAX_WATCHED_PRODUCTS) throw badUserInput(`at most ${MAX_WATCHED_PRODUCTS} products per subscription`, 'ids');
      const watched = new Set(ids);
      const stream = await events.subscribe(PRODUCT_CHANGED, (e) => watched.has(e.id), { after: resumeAfter });
      // Resumed: the subscriber had the state and the changes since are replayed.
      if (!stream.resumed) for (const id of watched) stream.push(id);
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
