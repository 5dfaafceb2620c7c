// The API schema of a supergraph: what clients see (no join/link machinery, no @inaccessible parts),
// with @defer declared, which the gateway serves on queries (lib/defer-directive.ts). The access
// rules' specs (for: SECURITY) are accepted: the gateway enforces them (gateway/authorization/).
import { DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { ENFORCED_FEATURES } from '../../gateway/authorization/supergraph-features.js';
import { withDefer } from '../../lib/defer-directive.js';

const SUPPORTED = new Set([...DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES, ...ENFORCED_FEATURES]);

export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return withDefer(Supergraph.build(supergraphSdl, { supportedFeatures: SUPPORTED }).apiSchema().toGraphQLJSSchema());
}
