// Changes to who may read a field, between two supergraphs: the access rules of federation's
// @authenticated, @requiresScopes and @policy (gateway/authorization/rules.ts), compared field by
// field as the gateway applies them (the field's rule, its type's and its return type's together).
// A rule removed or loosened (fewer scopes, a field made public) lets callers read what they could
// not: reported as breaking, to be acknowledged like any breaking change. A rule added or tightened
// takes data away from callers who read it: reported with the clients whose usage touches it.
import { getNamedType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { accessRules, describeRule, type AccessRule, type AccessRules } from '../../gateway/authorization/rules.js';

export interface AccessChange {
  /** `Type.field`. */
  field: string;
  /** What the report and the acknowledgements file call it: `access:Type.field`. */
  path: string;
  before: string;
  after: string;
  /** Some caller may read it now who could not before. */
  loosened: boolean;
  /** Some caller who could read it no longer may. */
  tightened: boolean;
}

/** A rule as alternatives of requirement sets (atoms `authenticated`, `scope:x`, `policy:y`); `[[]]` is public. */
type Dnf = string[][];

function dnfOf(rule: AccessRule | undefined): Dnf {
  if (!rule) return [[]];
  const parts: Dnf[] = [];
  if (rule.authenticated) parts.push([['authenticated']]);
  // A scope is only ever held by an authenticated caller.
  if (rule.scopes) parts.push(rule.scopes.map((all) => ['authenticated', ...all.map((s) => `scope:${s}`)]));
  if (rule.policies) parts.push(rule.policies.map((all) => all.map((p) => `policy:${p}`)));
  return parts.reduce<Dnf>((product, part) => product.flatMap((a) => part.map((b) => [...new Set([...a, ...b])])), [[]]);
}

/** Every caller `a` lets through, `b` lets through too. */
const implies = (a: Dnf, b: Dnf) => a.every((need) => b.some((other) => other.every((atom) => need.includes(atom))));

/** The rules a field of `schema` is read under, as the gateway combines them. */
function effective(schema: GraphQLSchema, rules: AccessRules): Map<string, { dnf: Dnf; text: string }> {
  const fields = new Map<string, { dnf: Dnf; text: string }>();
  for (const type of Object.values(schema.getTypeMap())) {
    if ((!isObjectType(type) && !isInterfaceType(type)) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const parts = [rules.get(`${type.name}.${field.name}`), rules.get(type.name), rules.get(getNamedType(field.type).name)].filter((r): r is AccessRule => !!r);
      const dnf = parts.map(dnfOf).reduce<Dnf>((product, part) => product.flatMap((a) => part.map((b) => [...new Set([...a, ...b])])), [[]]);
      fields.set(`${type.name}.${field.name}`, { dnf, text: parts.length ? parts.map(describeRule).join(' + ') : 'public' });
    }
  }
  return fields;
}

/** The fields (in both API schemas) whose access rule changed. */
export function accessChanges(before: { sdl: string; api: GraphQLSchema }, after: { sdl: string; api: GraphQLSchema }): AccessChange[] {
  const old = effective(before.api, accessRules(before.sdl));
  const now = effective(after.api, accessRules(after.sdl));
  const changes: AccessChange[] = [];
  for (const [field, rule] of now) {
    const was = old.get(field);
    if (!was) continue; // a new field: no caller read it before
    const loosened = !implies(rule.dnf, was.dnf);
    const tightened = !implies(was.dnf, rule.dnf);
    if (loosened || tightened) changes.push({ field, path: `access:${field}`, before: was.text, after: rule.text, loosened, tightened });
  }
  return changes.sort((a, b) => a.field.localeCompare(b.field));
}
