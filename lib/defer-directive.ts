// The @defer directive as the gateway serves it (the incremental delivery proposal, deferSpec=20220824),
// shared by the gateway, which validates deferred operations against the public schema with it,
// and the tooling, whose API schema (codegen, schema checks) declares it for the clients' operations.
// graphql-js 16 does not declare @defer, and the supergraph's API schema does not carry it.
import { DirectiveLocation, GraphQLBoolean, GraphQLDirective, GraphQLNonNull, GraphQLSchema, GraphQLString } from 'graphql';

export const DEFER_DIRECTIVE = new GraphQLDirective({
  name: 'defer',
  description: 'Delivers the fragment after the rest of the response, in its own part of a multipart/mixed response.',
  locations: [DirectiveLocation.FRAGMENT_SPREAD, DirectiveLocation.INLINE_FRAGMENT],
  args: {
    label: { type: GraphQLString, description: 'Names the part the fragment arrives in; unique in the operation.' },
    if: { type: new GraphQLNonNull(GraphQLBoolean), defaultValue: true, description: 'Deferred only when true.' },
  },
});

/** The schema with @defer declared. */
export const withDefer = (schema: GraphQLSchema): GraphQLSchema =>
  new GraphQLSchema({ ...schema.toConfig(), directives: [...schema.getDirectives().filter((d) => d.name !== 'defer'), DEFER_DIRECTIVE] });
