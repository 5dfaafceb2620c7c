// Resolver types generated from each subgraph's schema.graphql (part of `npm run generate`), so
// resolver arguments, parents and results are checked against the schema. Parents are the Prisma
// rows and the shapes in each subgraph's db.ts (mappers); the context is its request context.
import type { CodegenConfig } from '@graphql-codegen/cli';

const subgraph = (name: string, context: string, mappers: Record<string, string>): CodegenConfig['generates'] => ({
  [`subgraphs/${name}/generated/graphql.ts`]: {
    schema: `subgraphs/${name}/schema.graphql`,
    plugins: ['typescript', 'typescript-resolvers'],
    config: {
      federation: true,
      contextType: `../loaders.js#${context}`,
      mappers: Object.fromEntries(Object.entries(mappers).map(([type, model]) => [type, `../db.js#${model}`])),
      scalars: { DateTime: { input: 'Date', output: 'Date | string' } },
      enumsAsTypes: true,
      useTypeImports: true,
      mapperTypeSuffix: 'Model',
    },
  },
});

const config: CodegenConfig = {
  silent: true,
  generates: {
    ...subgraph('users', 'UsersContext', { User: 'User' }),
    ...subgraph('catalog', 'CatalogContext', {
      Product: 'Product',
      Category: 'Category',
      ProductConnection: 'ProductConnection',
      ProductEdge: 'ProductEdge',
      StockReservation: 'ReservationWithLines',
      ReservationLine: 'ReservationLine',
    }),
    ...subgraph('orders', 'OrdersContext', {
      Order: 'Order',
      OrderItem: 'OrderItem',
      OrderConnection: 'OrderConnection',
      OrderEdge: 'OrderEdge',
      Product: 'ProductReference',
      User: 'UserReference',
    }),
    ...subgraph('reviews', 'ReviewsContext', {
      Review: 'Review',
      ReviewConnection: 'ReviewConnection',
      ReviewEdge: 'ReviewEdge',
      Product: 'EntityReference',
      User: 'EntityReference',
    }),
  },
};
export default config;
