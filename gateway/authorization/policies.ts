// The policies `@policy` names in the subgraph schemas, decided here and nowhere else in the
// gateway: each is a function of the caller and of the root field the rule is met under, evaluated
// before the operation is planned. A policy whose rule depends on the entity (whose order it is)
// grants what the gateway can know before any data is read; the subgraph that owns the entity
// decides the rest (its second line, which also refuses a request sent to it directly).
import type { Viewer } from '../../lib/security/auth.js';

/** Where a rule is met: under which root field of the operation. */
export interface PolicyScope {
  rootField: string;
}

export type Policy = (viewer: Viewer | null, at: PolicyScope) => boolean;

/** Root fields whose answer is the caller's own account, though the request carries no token yet. */
const OWN_ACCOUNT = new Set(['login', 'register']);

export const POLICIES: Readonly<Record<string, Policy>> = {
  /**
   * A viewer's own data (their email, their orders), or any customer's for an admin: granted to a
   * logged-in customer or admin, and under `login` and `register` (the account they answer is the
   * caller's own). The owning subgraph answers null or FORBIDDEN for another customer's record.
   */
  owner: (viewer, at) => (viewer !== null && (viewer.role === 'CUSTOMER' || viewer.role === 'ADMIN')) || OWN_ACCOUNT.has(at.rootField),
};
