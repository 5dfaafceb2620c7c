import { loaderById } from '../../lib/loaders.js';
import type { BaseContext } from '../../lib/subgraph.js';
import type { CatalogDb } from './db.js';

export function createContext(db: CatalogDb, base: BaseContext) {
  return {
    ...base,
    products: loaderById((ids) => db.product.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id),
    productsBySku: loaderById((skus) => db.product.findMany({ where: { sku: { in: [...skus] } } }), (p) => p.sku),
    categories: loaderById((ids) => db.category.findMany({ where: { id: { in: [...ids] } } }), (c) => c.id),
  };
}
export type CatalogContext = ReturnType<typeof createContext>;
