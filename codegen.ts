// Resolver types generated from each subgraph's schema.graphql (part of `npm run generate`), so
// resolver arguments, parents and results are checked against the schema. Parents are the Prisma
// rows and the shapes in each subgraph's db.ts (mappers); the context is its request context.
// Also the typed documents of every client operation (operations/<client>/*.graphql), checked
// against the API schema clients see, for the web shop and any TypeScript client.
import type { CodegenConfig } from '@graphql-codegen/cli';

/** The supergraph's API schema, written here by scripts/generate.ts before the code generator runs. */
export const API_SCHEMA_PATH = '.cache/api-schema.graphql';
/** Where the typed client operations go: `import { ProductListDocument } from '<root>/clients/generated/graphql.js'`. */
export const CLIENT_OPERATIONS_DIR = 'clients/generated/';

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
    // TypedDocumentNode per operation: its result and variables types follow the API schema, so a
    // schema change that breaks a client's code fails `npm run typecheck`.
    [CLIENT_OPERATIONS_DIR]: {
      schema: API_SCHEMA_PATH,
      documents: ['operations/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        // Money amounts are Int; DateTime travels as an ISO-8601 string.
        scalars: { DateTime: { input: 'string', output: 'string' } },
        importExtension: '.js',
      },
    },
  },
};
export default config;
