// The API schema of a supergraph: what clients see (no join/link machinery, no @inaccessible parts),
// with @defer declared, which the gateway serves on queries (lib/defer-directive.ts).
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { withDefer } from '../../lib/defer-directive.js';

export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return withDefer(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema());
}
