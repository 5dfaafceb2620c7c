// Trusted documents (gateway/features/trusted-documents.ts): what each OPERATIONS policy lets run, the code
// of each refusal, that a refused operation changes nothing, and that Apollo Client's persisted-
// query link with the committed manifest works against a gateway that runs the manifest only.
// The policy lives in the gateway alone, so one database backend is enough here.
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createPersistedQueryManifestVerificationLink, generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { OPERATIONS_KEY_HEADER } from '../../gateway/features/trusted-documents.js';
import type { OperationsPolicy } from '../../lib/config.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { operationId } from '../../lib/persisted-manifest.js';
import { gatewayConfig, operation, startStack, userToken, type Stack } from '../support/harness.js';
import { bearer, byHash, manifest, persisted, send } from '../support/persisted-requests.js';

const ADMIN_KEY = 'k'.repeat(40);
const FREE_FORM = '{ categories { id name } }';
/** A write that a refused request must not make. */
const register = (email: string) => ({
  query: 'mutation($input: RegisterInput!) { register(input: $input) { user { id } } }',
  variables: { input: { email, password: 'a-long-password', name: 'Mallory' } },
});

describe('trusted documents', () => {
  let stack: Stack;
  const gateways: Partial<Record<OperationsPolicy, RunningServer>> = {};
  const url = (policy: OperationsPolicy) => gateways[policy]!.url;
  const userExists = async (email: string) => (await stack.users.db.client.user.count({ where: { email } })) > 0;

  beforeAll(async () => {
    stack = await startStack('pglite');
    for (const policy of ['persisted', 'manifest'] as const) {
      const config = gatewayConfig(stack.urls, { production: true });
      gateways[policy] = await startGateway({ ...config, trustedDocuments: { ...config.trustedDocuments, policy, adminKey: ADMIN_KEY } });
    }
  });
  afterAll(async () => {
    for (const gateway of Object.values(gateways)) await gateway.close();
    await stack?.stop();
  });

  describe('the manifest', () => {
    it('gives each operation the SHA-256 of its body, with __typename in every selection set below the root', () => {
      expect(manifest.operations.map((o) => o.name)).toContain('ProductList');
      for (const op of manifest.operations) {
        expect(op.id).toBe(operationId(op.body));
        expect(op.body).toContain('__typename');
        expect(op.body.startsWith(`${op.type} ${op.name}`)).toBe(true);
      }
    });
  });

  describe('OPERATIONS=any (development)', () => {
    it('runs free-form operations and the manifest\'s ids', async () => {
      expect((await send(stack.gatewayUrl, { query: FREE_FORM })).data?.categories.length).toBeGreaterThan(0);
      const byId = await send(stack.gatewayUrl, { extensions: byHash(persisted('ProductList').id), variables: { first: 2 } });
      expect(byId.errors).toBeUndefined();
      expect(byId.data?.products.edges).toHaveLength(2);
    });
  });

  describe('OPERATIONS=manifest (production)', () => {
    it('runs a manifest operation by id, by POST and by GET', async () => {
      const request = { extensions: byHash(persisted('ProductList').id), variables: { first: 3 } };
      for (const method of ['POST', 'GET'] as const) {
        const res = await send(url('manifest'), request, { method, headers: { 'content-type': 'application/json' } });
        expect(res.status).toBe(200);
        expect(res.errors).toBeUndefined();
        expect(res.data?.products.edges).toHaveLength(3);
      }
    });

    it('runs a manifest operation sent as its exact text', async () => {
      const res = await send(url('manifest'), { query: persisted('ProductList').body, variables: { first: 1 } });
      expect(res.errors).toBeUndefined();
      expect(res.data?.products.edges).toHaveLength(1);
    });

    it('refuses a free-form operation with PERSISTED_QUERY_NOT_IN_LIST and runs nothing', async () => {
      const email = 'refused-manifest@example.com';
      const res = await send(url('manifest'), register(email));
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(res.data).toBeUndefined();
      expect(await userExists(email)).toBe(false);
    });

    it('refuses the text of a client operation that differs from the manifest\'s (no __typename)', async () => {
      const res = await send(url('manifest'), { query: operation('ProductList'), variables: { first: 1 } });
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    });

    it('tells a stranger nothing about the schema: an invalid operation is refused before validation', async () => {
      const res = await send(url('manifest'), { query: '{ secretAdminField }' });
      expect(res.status).toBe(400);
      expect(res.errors).toHaveLength(1);
      expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    });

    it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND (404), and registers nothing sent with its hash', async () => {
      const hash = operationId(FREE_FORM);
      const unknown = await send(url('manifest'), { extensions: byHash(hash) });
      expect(unknown.status).toBe(404);
      expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const register = await send(url('manifest'), { query: FREE_FORM, extensions: byHash(hash) });
      expect(register.status).toBe(400);
      expect(register.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect((await send(url('manifest'), { extensions: byHash(hash) })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });

    it('lets an administrator\'s token and the operations key send free-form operations, not a customer\'s token or a wrong key', async () => {
      const admin = await userToken({ id: 'admin-1', role: 'ADMIN' });
      const customer = await userToken({ id: 'customer-1', role: 'CUSTOMER' });
      expect((await send(url('manifest'), { query: FREE_FORM }, { headers: bearer(admin) })).data?.categories.length).toBeGreaterThan(0);
      expect((await send(url('manifest'), { query: FREE_FORM }, { headers: { [OPERATIONS_KEY_HEADER]: ADMIN_KEY } })).data?.categories.length).toBeGreaterThan(0);
      for (const headers of [bearer(customer), { [OPERATIONS_KEY_HEADER]: 'x'.repeat(40) }]) {
        const res = await send(url('manifest'), { query: FREE_FORM }, { headers });
        expect(res.status).toBe(400);
        expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      }
    });

    it('serves Apollo Client with its persisted-query link and the committed manifest, GET for queries, bodies as the manifest has them', async () => {
      const mismatches: string[] = [];
      const loadManifest = () => manifest;
      const client = new ApolloClient({
        cache: new InMemoryCache(),
        link: ApolloLink.from([
          // Apollo's own check that what the client sends is the manifest's body.
          // A CommonJS package: its types name Apollo Client's CommonJS build, the same link at run time.
          createPersistedQueryManifestVerificationLink({
            loadManifest,
            onVerificationFailed: ({ reason, operation }) => void mismatches.push(`${operation.operationName}: ${reason}`),
          }) as unknown as ApolloLink,
          new PersistedQueryLink({ ...generatePersistedQueryIdsFromManifest({ loadManifest }), useGETForHashedQueries: true }),
          new HttpLink({ uri: url('manifest') }),
        ]),
      });
      const list = await client.query({ query: gql(operation('ProductList')), variables: { first: 2 } });
      const id = (list.data as { products: { edges: { node: { id: string; __typename: string } }[] } }).products.edges[0]!.node;
      expect(id.__typename).toBe('Product');
      const detail = await client.query({ query: gql(operation('ProductDetail')), variables: { id: id.id } });
      expect((detail.data as { product: { id: string } }).product.id).toBe(id.id);
      expect(mismatches).toEqual([]);
    });
  });

  describe('OPERATIONS=persisted', () => {
    it('refuses a free-form operation without its hash with PERSISTED_QUERY_ID_REQUIRED and runs nothing', async () => {
      const email = 'refused-persisted@example.com';
      const res = await send(url('persisted'), register(email));
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ID_REQUIRED');
      expect(await userExists(email)).toBe(false);
    });

    it('registers an operation sent with its hash (APQ), then runs it by hash alone', async () => {
      const query = '{ categories { slug } }';
      const hash = operationId(query);
      const miss = await send(url('persisted'), { extensions: byHash(hash) });
      expect(miss.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const registered = await send(url('persisted'), { query, extensions: byHash(hash) });
      expect(registered.errors).toBeUndefined();
      const hit = await send(url('persisted'), { extensions: byHash(hash) }, { method: 'GET', headers: { 'apollo-require-preflight': 'true' } });
      expect(hit.errors).toBeUndefined();
      expect(hit.data).toEqual(registered.data);
    });

    it('refuses a hash that is not the operation\'s', async () => {
      const res = await send(url('persisted'), { query: FREE_FORM, extensions: byHash(operationId('{ other }')) });
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
    });

    it('runs the manifest\'s ids without registration', async () => {
      const res = await send(url('persisted'), { extensions: byHash(persisted('HomeFeed').id), variables: { first: 2 } });
      expect(res.errors).toBeUndefined();
      expect(res.data?.products.edges).toHaveLength(2);
    });
  });
});
