// The peer "bare @apollo/gateway": Apollo Gateway on Apollo Server with nothing of ours, serving
// the same supergraph file and forwarding the Authorization header, as its docs show.
// Usage: node --import tsx bench/gateway/bare-apollo.ts <supergraph file> <port>
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { declareEnforcedFeatures } from '../../gateway/authorization/supergraph-features.js';

const [supergraphFile, port] = process.argv.slice(2);
process.env.APOLLO_TELEMETRY_DISABLED = 'true';

class AuthorizationForwarding extends RemoteGraphQLDataSource<{ authorization?: string }> {
  override willSendRequest({ request, context }: Parameters<RemoteGraphQLDataSource<{ authorization?: string }>['willSendRequest'] & {}>[0]) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

// Apollo Gateway refuses a supergraph with access rules it cannot enforce; the peer is told to
// accept them and enforces none (the workload reads public fields only, so its answers are the same).
declareEnforcedFeatures();
const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(supergraphFile!, 'utf8'),
  buildService: ({ url }) => new AuthorizationForwarding({ url }),
});
const server = new ApolloServer<{ authorization?: string }>({ gateway });
await startStandaloneServer(server, {
  listen: { port: Number(port) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
