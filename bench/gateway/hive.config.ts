// Hive Gateway with its default settings, plus the one thing our graph needs from any gateway:
// the client's Authorization header reaches the subgraphs (Hive propagates no header by default).
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }),
  },
});
