import DataLoader from 'dataloader';
import { loaderById, tracedBatch } from '../../lib/subgraph/loaders.js';
import { pageLoader } from '../../lib/subgraph/paged-query.js';
import { rowsByKey } from '../../lib/subgraph/rows-by-key.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { CatalogDb, Category, Product } from './db.js';

export function createContext(db: CatalogDb, base: BaseContext) {
  return {
    ...base,
    products: loaderById(rowsByKey<Product>(db, { table: 'Product', column: 'id', dates: ['createdAt', 'updatedAt'] }), (p) => p.id),
    productsBySku: loaderById((skus) => db.product.findMany({ where: { sku: { in: [...skus] } } }), (p) => p.sku),
    categories: loaderById(rowsByKey<Category>(db, { table: 'Category', column: 'id', dates: ['createdAt'] }), (c) => c.id),
    /** Each category's newest products, one statement for every category in the request. */
    productsOfCategory: pageLoader<Product>(db, 'Product', 'categoryId'),
    productCountOfCategory: new DataLoader<string, number>(
      tracedBatch(async (categoryIds) => {
        const groups = await db.product.groupBy({ by: ['categoryId'], where: { categoryId: { in: [...categoryIds] } }, _count: { _all: true } });
        const counts = new Map(groups.map((g) => [g.categoryId, g._count._all]));
        return categoryIds.map((id) => counts.get(id) ?? 0);
      }),
    ),
  };
}
export type CatalogContext = ReturnType<typeof createContext>;
