// The access rules: every field of the supergraph with the rule it is read under, held to the
// table of docs/api.md; a field whose subgraph marks it personal (a PRIVATE cache hint on it, on
// its type or on the type it returns) or a mutation must have a rule; and the pure rewrite the
// gateway runs before planning (gateway/authorization/operation.ts): what is removed, the error
// paths, nulls reaching the nearest nullable parent, fragments, policies and scopes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, getNamedType, isObjectType, Kind, parse, print, type ConstDirectiveNode, type OperationDefinitionNode } from 'graphql';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { grantsOf } from '../../gateway/authorization/grants.js';
import { answerRemovedFields, authorizeOperation, errorPath } from '../../gateway/authorization/operation.js';
import { POLICIES } from '../../gateway/authorization/policies.js';
import { accessRules, allows, describeRule, type AccessRule } from '../../gateway/authorization/rules.js';
import { ROLE_SCOPES, Tokens, type Viewer } from '../../lib/security/auth.js';
import { generateSigningKey } from '../../lib/security/keys.js';
import { ROOT, SUPERGRAPH_PATH } from '../../lib/paths.js';
import { readSubgraphs } from '../../tools/composition.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';

const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
const rules = accessRules(supergraphSdl);
const api = apiSchemaOf(supergraphSdl);
/** Every type and field of the supergraph, @inaccessible ones too. */
const full = buildSchema(supergraphSdl, { assumeValidSDL: true });

/** The rule a field is read under: its own, its type's and the type it returns, together. */
function effectiveRule(type: string, field: string): AccessRule | undefined {
  const parent = full.getType(type);
  if (!isObjectType(parent)) throw new Error(`${type} is not an object type`);
  const definition = parent.getFields()[field]!;
  const parts = [rules.get(`${type}.${field}`), rules.get(type), rules.get(getNamedType(definition.type).name)].filter((r): r is AccessRule => !!r);
  if (parts.length === 0) return undefined;
  return parts.reduce<AccessRule>(
    (all, r) => ({
      authenticated: all.authenticated || r.authenticated,
      ...((all.scopes ?? r.scopes) ? { scopes: [...(all.scopes ?? []), ...(r.scopes ?? [])] } : {}),
      ...((all.policies ?? r.policies) ? { policies: [...(all.policies ?? []), ...(r.policies ?? [])] } : {}),
    }),
    { authenticated: false },
  );
}

/** Fields public by design though personal or a mutation, and why. */
const PUBLIC_BY_DESIGN: Record<string, string> = {
  'Query.me': 'the viewer themselves: null without a token',
  'Mutation.login': 'how a caller gets a token',
  'Mutation.register': 'how a caller gets an account',
};

const privateHint = (directives: readonly ConstDirectiveNode[] | undefined) =>
  (directives ?? []).some((d) => d.name.value === 'cacheControl' && d.arguments?.some((a) => a.name.value === 'scope' && a.value.kind === Kind.ENUM && a.value.value === 'PRIVATE'));

/** The fields a subgraph marks personal: a PRIVATE hint on the field, on its type (key fields aside) or on the type it returns; and every mutation. */
function fieldsNeedingARule(): Set<string> {
  const needing = new Set<string>();
  for (const subgraph of readSubgraphs(ROOT)) {
    const privateTypes = new Set<string>();
    for (const d of subgraph.document.definitions) {
      if ((d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && privateHint(d.directives)) privateTypes.add(d.name.value);
    }
    for (const d of subgraph.document.definitions) {
      if (d.kind !== Kind.OBJECT_TYPE_DEFINITION && d.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const keys = new Set((d.directives ?? []).filter((k) => k.name.value === 'key').flatMap((k) => (k.arguments?.[0]?.value.kind === Kind.STRING ? k.arguments[0].value.value.split(/\s+/) : [])));
      for (const field of d.fields ?? []) {
        let named = field.type;
        while (named.kind !== Kind.NAMED_TYPE) named = named.type;
        const coordinate = `${d.name.value}.${field.name.value}`;
        const personal = privateHint(field.directives) || (privateTypes.has(d.name.value) && !keys.has(field.name.value)) || privateTypes.has(named.name.value);
        if ((personal || d.name.value === 'Mutation') && !(coordinate in PUBLIC_BY_DESIGN)) needing.add(coordinate);
      }
    }
  }
  return needing;
}

/** Every field of the supergraph that is not public, with its rule: what docs/api.md's table lists. */
function ruleListing(): string[] {
  const listing: string[] = [];
  for (const type of Object.values(full.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type.name.startsWith('join__') || type.name.startsWith('link__')) continue;
    for (const field of Object.keys(type.getFields())) {
      const rule = effectiveRule(type.name, field);
      if (rule) listing.push(`${type.name}.${field}: ${describeRule(rule)}`);
    }
  }
  return listing.sort();
}

describe('the access rules of the supergraph', () => {
  it('give every personal field and every mutation a rule (a PRIVATE cache hint or a mutation without one fails here)', () => {
    const missing = [...fieldsNeedingARule()].filter((coordinate) => {
      const [type, field] = coordinate.split('.') as [string, string];
      return !effectiveRule(type, field);
    });
    expect(missing).toEqual([]);
    // The test sees what it claims to: personal fields and mutations are found.
    expect([...fieldsNeedingARule()]).toEqual(expect.arrayContaining(['User.email', 'User.orders', 'Query.order', 'Mutation.placeOrder', 'Mutation.createProduct']));
  });

  it('are listed, field by field, in the table of docs/api.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
    const section = doc.split('### Access rules, field by field')[1]?.split('\n## ')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([A-Za-z]+\.[A-Za-z]+)` \| (.+?) \|$/gm)].map((m) => `${m[1]}: ${m[2]!.replaceAll('`', '')}`).sort();
    expect(documented).toEqual(ruleListing());
  });

  it('name only policies the gateway defines', () => {
    const named = new Set([...rules.values()].flatMap((r) => (r.policies ?? []).flat()));
    expect([...named].filter((name) => !(name in POLICIES))).toEqual([]);
  });

  it('name only scopes some role grants', () => {
    const granted = new Set(Object.values(ROLE_SCOPES).flat());
    const named = new Set([...rules.values()].flatMap((r) => (r.scopes ?? []).flat()));
    expect([...named].filter((s) => !granted.has(s))).toEqual([]);
  });
});

const customer: Viewer = { id: 'c1', role: 'CUSTOMER' };
const admin: Viewer = { id: 'a1', role: 'ADMIN' };

function run(query: string, viewer: Viewer | null) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return authorizeOperation(api, document, operation, rules, (rootField) => grantsOf(viewer, POLICIES, rootField));
}

const deniedPaths = (result: ReturnType<typeof run>) => result.removed.filter((r) => r.denied).map(errorPath);

describe('authorizeOperation', () => {
  it('leaves an operation the caller may read as it is (the same document)', () => {
    const document = parse('{ products(first: 2) { edges { node { name reviews { edges { node { author { name } } } } } } } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    const result = authorizeOperation(api, document, operation, rules, (rootField) => grantsOf(null, POLICIES, rootField));
    expect(result.document).toBe(document);
    expect(result.removed).toEqual([]);
  });

  it('removes a denied field and reports its path, lists as @', () => {
    const result = run('{ products(first: 2) { edges { node { name reviews { edges { node { author { name email } } } } } } } }', null);
    expect(deniedPaths(result)).toEqual([['products', 'edges', '@', 'node', 'reviews', 'edges', '@', 'node', 'author', 'email']]);
    expect(print(result.document)).not.toContain('email');
    expect(print(result.document)).toContain('author {\n');
  });

  it('removes a field whose selection is left empty, reporting only what was denied inside it', () => {
    const result = run('query($id: ID!) { user(id: $id) { email } product(id: $id) { name } }', null);
    expect(deniedPaths(result)).toEqual([['user', 'email']]);
    expect(result.removed.map((r) => [errorPath(r), r.denied])).toEqual([
      [['user', 'email'], true],
      [['user'], false],
    ]);
    expect(print(result.document)).not.toContain('user');
    expect(result.empty).toBe(false);
  });

  it('says when nothing is left to plan', () => {
    const result = run('mutation { adjustStock(productId: "p", delta: 1) { id } }', customer);
    expect(result.empty).toBe(true);
    expect(deniedPaths(result)).toEqual([['adjustStock']]);
    expect(run('mutation { adjustStock(productId: "p", delta: 1) { id } }', admin).removed).toEqual([]);
  });

  it('rewrites a fragment once per root field, under a name of its own, and keeps the original where nothing is denied', () => {
    const query = 'mutation($e: String!, $p: String!, $id: ID!) { login(email: $e, password: $p) { user { ...U } } addReview(input: { productId: $id, rating: 1 }) { author { ...U } } } fragment U on User { name email }';
    const result = run(query, null);
    // login answers the caller's own account: its email is kept; addReview needs a token.
    expect(deniedPaths(result)).toEqual([['addReview']]);
    const printed = print(result.document);
    expect(printed).toContain('fragment U on User');
    expect(printed).not.toContain('addReview');
    const anonymousUser = run('query($id: ID!) { user(id: $id) { ...U } } fragment U on User { name email }', null);
    expect(print(anonymousUser.document)).toMatch(/fragment U_authorized_0 on User \{\n {2}name\n\}/);
    expect(print(anonymousUser.document)).not.toMatch(/fragment U on/);
  });

  it('says whether the answer depends on who asks (a field some rule covers), for the response cache', () => {
    expect(run('{ categories { id name } }', null).ruled).toBe(false);
    expect(run('query($id: ID!) { user(id: $id) { name email } }', admin).ruled).toBe(true);
    expect(run('query($id: ID!) { user(id: $id) { name email } }', null).ruled).toBe(true);
  });

  it('applies a type rule to every field returning the type (Order is @authenticated)', () => {
    const result = run('{ order(id: "o") { id } }', null);
    expect(deniedPaths(result)).toEqual([['order']]);
    expect(run('{ order(id: "o") { id } }', customer).removed).toEqual([]);
  });
});

describe('answerRemovedFields', () => {
  it('puts null where a removed field would be, in every item of a list', () => {
    const result = run('{ products(first: 2) { edges { node { reviews { edges { node { author { name email } } } } } } } }', null);
    const data = { products: { edges: [{ node: { reviews: { edges: [{ node: { author: { name: 'A' } } }] } } }, { node: { reviews: null } }] } };
    expect(answerRemovedFields(api, data, result.removed)).toEqual({
      products: { edges: [{ node: { reviews: { edges: [{ node: { author: { name: 'A', email: null } } }] } } }, { node: { reviews: null } }] },
    });
  });

  it('lets the null of a non-null field reach the nearest nullable parent, up to the root', () => {
    const result = run('mutation { adjustStock(productId: "p", delta: 1) { id } }', customer);
    expect(answerRemovedFields(api, {}, result.removed)).toBeNull();
    const partial = run('query($id: ID!) { user(id: $id) { name } order(id: $id) { id } }', null);
    expect(answerRemovedFields(api, { user: { name: 'A' } }, partial.removed)).toEqual({ user: { name: 'A' }, order: null });
  });
});

describe('grants', () => {
  it('deny a policy the gateway does not define, and grant owner to customers and admins only', () => {
    expect(allows({ authenticated: false, policies: [['nobody-defines-this']] }, grantsOf(admin, POLICIES, 'order'))).toBe(false);
    expect(grantsOf(customer, POLICIES, 'order').policy('owner')).toBe(true);
    expect(grantsOf(null, POLICIES, 'order').policy('owner')).toBe(false);
    expect(grantsOf({ id: 'orders', role: 'SERVICE' }, POLICIES, 'order').policy('owner')).toBe(false);
  });

  it('read (a and b) or c for scopes', () => {
    const rule = { authenticated: false, scopes: [['orders:write', 'catalog:write'], ['stock:reserve']] };
    expect(allows(rule, grantsOf(customer, POLICIES, 'x'))).toBe(false);
    expect(allows(rule, grantsOf(admin, POLICIES, 'x'))).toBe(true);
    expect(allows(rule, grantsOf({ id: 'orders', role: 'SERVICE' }, POLICIES, 'x'))).toBe(true);
  });
});

describe('scopes in tokens', () => {
  const key = generateSigningKey();
  const tokens = new Tokens({ users: { signing: key, verifying: [{ kid: key.kid, publicKey: key.publicKey }] } });

  it("carry the role's scopes, read back on verification", async () => {
    const viewer = await tokens.verify(await tokens.sign(customer));
    expect(viewer.scopes).toEqual(ROLE_SCOPES.CUSTOMER);
    expect((await tokens.verify(await tokens.sign(admin))).scopes).toEqual(ROLE_SCOPES.ADMIN);
  });

  it("never widen the role: a scope the role does not grant is dropped; a malformed claim is refused", async () => {
    const signed = (scope: unknown) =>
      new SignJWT({ role: 'CUSTOMER', scope })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .setSubject('c1')
        .setIssuer('commerce-supergraph/users')
        .setAudience('commerce-supergraph')
        .setExpirationTime('5m')
        .sign(key.privateKey);
    expect((await tokens.verify(await signed('orders:write catalog:write'))).scopes).toEqual(['orders:write']);
    await expect(tokens.verify(await signed(['catalog:write']))).rejects.toThrow('invalid token');
  });
});
