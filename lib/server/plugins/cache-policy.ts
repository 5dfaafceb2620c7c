// What Apollo Server's cache-control plugin may not conclude from the schema's @cacheControl hints:
// a mutation's response is never cacheable, whatever the hints of the types it returns (a mutation
// returning a Product would otherwise come back `max-age=60, public`).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

export function cachePolicyPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, overallCachePolicy }) {
          if (operation?.operation !== 'query') overallCachePolicy.restrict({ maxAge: 0 });
        },
      };
    },
  };
}
