// The access rules a supergraph declares: `@authenticated`, `@requiresScopes` and `@policy` (the
// federation 2.5/2.6 authorization directives) on types and fields, read from the composed
// supergraph SDL, where composition keeps them under the names its `@link`s give them.
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

/** Alternatives of requirements: `[["a", "b"], ["c"]]` means (a and b) or c, as the directives define. */
export type Alternatives = readonly (readonly string[])[];

export interface AccessRule {
  authenticated: boolean;
  scopes?: Alternatives;
  policies?: Alternatives;
}

/** The rules of a supergraph by coordinate: `Type` for a type's own rule, `Type.field` for a field's. */
export type AccessRules = ReadonlyMap<string, AccessRule>;

type Spec = 'authenticated' | 'requiresScopes' | 'policy';

/** The name each authorization directive has in this supergraph (`@link(url: ".../policy/v0.1", as: "...")`). */
function directiveNames(document: DocumentNode): Map<string, Spec> {
  const names = new Map<string, Spec>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const url = stringArgument(link, 'url');
      const spec = url && /^https:\/\/specs\.apollo\.dev\/(authenticated|requiresScopes|policy)\/v0\.\d+$/.exec(url)?.[1];
      if (spec) names.set(stringArgument(link, 'as') ?? spec, spec as Spec);
    }
  }
  return names;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function alternatives(value: ConstValueNode | undefined, where: string): Alternatives {
  const bad = () => new Error(`${where}: expected a list of lists of strings`);
  if (value?.kind !== Kind.LIST) throw bad();
  return value.values.map((all) => {
    if (all.kind !== Kind.LIST) throw bad();
    return all.values.map((one) => {
      if (one.kind !== Kind.STRING) throw bad();
      return one.value;
    });
  });
}

/** The rule the directives on one type or field make, or undefined when they make none. */
function ruleOf(directives: readonly ConstDirectiveNode[] | undefined, names: Map<string, Spec>, coordinate: string): AccessRule | undefined {
  let rule: AccessRule | undefined;
  for (const directive of directives ?? []) {
    const spec = names.get(directive.name.value);
    if (!spec) continue;
    rule ??= { authenticated: false };
    const argument = (name: string) => directive.arguments?.find((a) => a.name.value === name)?.value;
    if (spec === 'authenticated') rule.authenticated = true;
    else if (spec === 'requiresScopes') rule.scopes = alternatives(argument('scopes'), `@requiresScopes on ${coordinate}`);
    else rule.policies = alternatives(argument('policies'), `@policy on ${coordinate}`);
  }
  return rule;
}

/** Every access rule of a composed supergraph. */
export function accessRules(supergraphSdl: string): AccessRules {
  const document = parse(supergraphSdl);
  const names = directiveNames(document);
  const rules = new Map<string, AccessRule>();
  if (names.size === 0) return rules;
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.SCALAR_TYPE_DEFINITION &&
      definition.kind !== Kind.ENUM_TYPE_DEFINITION
    ) {
      continue;
    }
    const type = definition.name.value;
    const own = ruleOf(definition.directives, names, type);
    if (own) rules.set(type, own);
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${type}.${field.name.value}`;
      const rule = ruleOf(field.directives, names, coordinate);
      if (rule) rules.set(coordinate, rule);
    }
  }
  return rules;
}

/** Every policy name the rules use. */
export function policyNames(rules: AccessRules): Set<string> {
  const names = new Set<string>();
  for (const rule of rules.values()) for (const all of rule.policies ?? []) for (const name of all) names.add(name);
  return names;
}

/** What the caller holds: whether it is authenticated, its scopes, and whether each policy grants it. */
export interface Grants {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
  policy(name: string): boolean;
}

const anyOf = (alternatives: Alternatives | undefined, holds: (name: string) => boolean) =>
  alternatives === undefined || alternatives.some((all) => all.every(holds));

/** Whether a rule lets the caller through. */
export function allows(rule: AccessRule | undefined, grants: Grants): boolean {
  if (!rule) return true;
  if (rule.authenticated && !grants.authenticated) return false;
  return anyOf(rule.scopes, (s) => grants.scopes.has(s)) && anyOf(rule.policies, (p) => grants.policy(p));
}

/** A rule as one line, for listings and reports: `authenticated`, `scopes(a and b | c)`, `policy(owner)`; `public` for none. */
export function describeRule(rule: AccessRule | undefined): string {
  if (!rule) return 'public';
  const alt = (a: Alternatives) => a.map((all) => all.join(' and ')).join(' | ');
  const parts = [
    ...(rule.authenticated ? ['authenticated'] : []),
    ...(rule.scopes ? [`scopes(${alt(rule.scopes)})`] : []),
    ...(rule.policies ? [`policy(${alt(rule.policies)})`] : []),
  ];
  return parts.join(' + ');
}
