// Apollo Gateway refuses a supergraph that links a `for: SECURITY` feature it does not know, so
// that a gateway which cannot enforce access rules never serves a schema that declares them (its
// documentation says it does not enforce @authenticated, @requiresScopes or @policy). This gateway
// enforces them before planning (gateway/features/authorization.ts) and says so here, once.
import { DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES } from '@apollo/federation-internals';

/** The authorization specs the gateway enforces. */
export const ENFORCED_FEATURES = [
  'https://specs.apollo.dev/authenticated/v0.1',
  'https://specs.apollo.dev/requiresScopes/v0.1',
  'https://specs.apollo.dev/policy/v0.1',
] as const;

/** What this gateway loads: federation's defaults and the access rules it enforces (for tools that check a supergraph as the gateway would). */
export const GATEWAY_SUPERGRAPH_FEATURES: ReadonlySet<string> = new Set([...DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES, ...ENFORCED_FEATURES]);

/** Lets Apollo Gateway (and the subscription planner, which builds the same supergraph) load a supergraph with access rules. */
export function declareEnforcedFeatures(): void {
  for (const feature of ENFORCED_FEATURES) DEFAULT_SUPPORTED_SUPERGRAPH_FEATURES.add(feature);
}
