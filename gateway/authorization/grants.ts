// What a caller holds, as the access rules ask it (rules.ts): authenticated or not, its scopes
// (lib/security/auth.ts's role table, as its token carries them) and the policies that grant it
// under one root field (policies.ts).
import { scopesOf, type Viewer } from '../../lib/security/auth.js';
import type { Policy } from './policies.js';
import type { Grants } from './rules.js';

/** A policy not in `policies` grants nothing: a name the gateway does not know denies, never allows. */
export function grantsOf(viewer: Viewer | null, policies: Readonly<Record<string, Policy>>, rootField: string): Grants {
  const decided = new Map<string, boolean>();
  return {
    authenticated: viewer !== null,
    scopes: new Set(scopesOf(viewer)),
    policy(name) {
      let granted = decided.get(name);
      if (granted === undefined) decided.set(name, (granted = Object.hasOwn(policies, name) && policies[name]!(viewer, { rootField })));
      return granted;
    },
  };
}
