// The API schema of a supergraph: what clients see (no join/link machinery, no @inaccessible parts),
// with @defer declared, which the gateway serves on queries (lib/defer-directive.ts). The access
// rules' specs (for: SECURITY) are accepted: the gateway enforces them (gateway/authorization/).
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { GATEWAY_SUPERGRAPH_FEATURES } from '../../gateway/authorization/supergraph-features.js';
import { withDefer } from '../../lib/defer-directive.js';

export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return withDefer(Supergraph.build(supergraphSdl, { supportedFeatures: new Set(GATEWAY_SUPERGRAPH_FEATURES) }).apiSchema().toGraphQLJSSchema());
}
