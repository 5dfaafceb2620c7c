// HTTP 503 for a request that failed as a whole because something it needs is away (a subgraph,
// a database): every error is SERVICE_UNAVAILABLE and no field has data, so the request can be
// sent again as it is; Retry-After carries the errors' `retryAfterSeconds` when they say one. A
// partial answer keeps HTTP 200: the client has data to show.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode } from '../../errors.js';

export function unavailablePlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (!errors?.length || !errors.every((e) => e.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE)) return;
          if (data && Object.values(data).some((v) => v !== null)) return;
          response.http.status = 503;
          const after = Math.max(0, ...errors.map((e) => Number(e.extensions?.retryAfterSeconds ?? 0) || 0));
          if (after > 0) response.http.headers.set('retry-after', String(after));
        },
      };
    },
  };
}
