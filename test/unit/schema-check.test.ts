// The schema checks, run on temporary copies of the repository's schema files with real edits.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compose, readSubgraphs } from '../../tools/composition.js';
import { ROOT, subgraphSchemaPath, SUPERGRAPH_FILE } from '../../lib/paths.js';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { runSchemaCheck } from '../../tools/schema-check/run.js';
import type { UsageReport } from '../../tools/schema-check/usage.js';

/** How many client operations the repository holds (operations/<client>/*.graphql). */
const OPERATION_COUNT = readdirSync(path.join(ROOT, 'operations'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.graphql')).length;

const COPIED = ['supergraph.yaml', SUPERGRAPH_FILE, 'schema-changes.acknowledged.yaml', 'operations', 'subgraphs/users/schema.graphql', 'subgraphs/catalog/schema.graphql', 'subgraphs/orders/schema.graphql', 'subgraphs/reviews/schema.graphql'];
const roots: string[] = [];

/** A git repository holding a copy of the schema files, committed on main, checked out on a branch. */
function copyOfRepo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'schema-check-'));
  roots.push(root);
  for (const file of COPIED) cpSync(path.join(ROOT, file), path.join(root, file), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'base');
  git('checkout', '-q', '-b', 'change');
  return root;
}

const edit = (root: string, file: string, from: string | RegExp, to: string) => {
  const full = path.join(root, file);
  const text = readFileSync(full, 'utf8');
  const changed = text.replace(from, to);
  expect(changed, `${file} should contain ${from}`).not.toBe(text);
  writeFileSync(full, changed);
};

const recompose = (root: string) => {
  const result = compose(readSubgraphs(root));
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  writeFileSync(path.join(root, SUPERGRAPH_FILE), result.supergraphSdl);
};

async function check(root: string, base?: string) {
  const lines: string[] = [];
  const ok = await runSchemaCheck({ root, base, print: (l) => lines.push(l) });
  return { ok, output: lines.join('\n') };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('supergraph.yaml', () => {
  it("lists the four subgraphs in rover's format, with the routing URLs and schema files the code uses", () => {
    const subgraphs = readSubgraphs(ROOT);
    expect(subgraphs.map((s) => s.name)).toEqual([...SERVICE_NAMES]);
    for (const s of subgraphs) {
      expect(s.url).toBe(`http://localhost:${DEFAULT_PORTS[s.name as ServiceName]}/graphql`);
      expect(s.file).toBe(subgraphSchemaPath(s.name as ServiceName));
    }
  });
});

describe('schema:check', () => {
  it('passes on the repository as committed, with one summary line per check', async () => {
    const { ok, output } = await check(copyOfRepo());
    expect(output).toMatch(/^✔ composition +4 subgraphs composed/m);
    expect(output).toMatch(/^✔ supergraph +supergraph\.graphql matches the composition/m);
    expect(output).toMatch(/^✔ changes +against the merge base with main \(\w+\): 0 breaking, 0 acknowledged, 0 dangerous, 0 safe/m);
    expect(output).toMatch(new RegExp(`^✔ operations +${OPERATION_COUNT} operations of admin, mobile, web are valid`, 'm'));
    expect(ok).toBe(true);
  });

  it('fails a subgraph edit that breaks composition, naming the subgraph, type and field', async () => {
    const root = copyOfRepo();
    // reviews now defines PageInfo as its own, which the other subgraphs share.
    edit(root, 'subgraphs/reviews/schema.graphql', 'type PageInfo @shareable', 'type PageInfo');
    const { ok, output } = await check(root);
    expect(ok).toBe(false);
    expect(output).toMatch(/^✘ composition/m);
    expect(output).toMatch(/subgraph reviews, type PageInfo, field (hasNextPage|endCursor): .*\[INVALID_FIELD_SHARING\]/);
  });

  it('fails when supergraph.graphql is stale, and passes once it is recomposed', async () => {
    const root = copyOfRepo();
    edit(root, 'subgraphs/catalog/schema.graphql', '  weightGrams: Int!\n', '  weightGrams: Int!\n  "Shown on the product page."\n  badge: String\n');
    const stale = await check(root);
    expect(stale.ok).toBe(false);
    expect(stale.output).toMatch(/^✘ supergraph +supergraph\.graphql is stale: run `npm run schema:compose` and commit it/m);
    recompose(root);
    const fresh = await check(root);
    expect(fresh.ok).toBe(true);
    expect(fresh.output).toMatch(/safe +Product\.badge: Field 'badge' was added to object type 'Product'/);
  });

  it('fails a removed field that a client uses, naming the client, the operation and the field', async () => {
    const root = copyOfRepo();
    edit(root, 'subgraphs/catalog/schema.graphql', '  sku: String!\n  name: String!\n  description: String\n  price: Money!', '  name: String!\n  description: String\n  price: Money!');
    edit(root, 'subgraphs/catalog/schema.graphql', '@key(fields: "id") @key(fields: "sku")', '@key(fields: "id")');
    recompose(root);
    const { ok, output } = await check(root);
    expect(ok).toBe(false);
    expect(output).toMatch(/^✘ changes .*1 breaking/m);
    expect(output).toMatch(/BREAKING +Product\.sku: Field 'sku' was removed from object type 'Product'/);
    expect(output).toMatch(new RegExp(`^✘ operations +5 of ${OPERATION_COUNT} operations invalid`, 'm'));
    expect(output).toMatch(/web: ProductList \(operations\/web\/ProductList\.graphql\), field Product\.sku: Cannot query field "sku" on type "Product"/);
    expect(output).toMatch(/mobile: OrderDetail .*field Product\.sku/);
    // The product page's deferred query as well.
    expect(output).toMatch(/web: ProductPage \(operations\/web\/ProductPage\.graphql\), field Product\.sku/);
  });

  it('passes a breaking change only once it is acknowledged with a reason', async () => {
    const root = copyOfRepo();
    // No client operation reads Product.createdAt.
    edit(root, 'subgraphs/catalog/schema.graphql', '  category: Category!\n  createdAt: DateTime!\n', '  category: Category!\n');
    recompose(root);
    const refused = await check(root);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/BREAKING +Product\.createdAt/);
    expect(refused.output).toContain('- change: Product.createdAt');
    expect(refused.output).toMatch(/^✔ operations/m);

    writeFileSync(path.join(root, 'schema-changes.acknowledged.yaml'), 'acknowledged:\n  - change: Product.createdAt\n    reason: no client reads it; sorting by CREATED_AT stays\n');
    const accepted = await check(root);
    expect(accepted.ok).toBe(true);
    expect(accepted.output).toMatch(/acknowledged +Product\.createdAt: .*\(reason: no client reads it; sorting by CREATED_AT stays\)/);

    writeFileSync(path.join(root, 'schema-changes.acknowledged.yaml'), 'acknowledged:\n  - change: Product.createdAt\n');
    await expect(check(root)).rejects.toThrow(/entry 1 needs a "change" and a non-empty "reason"/);
  });

  it('fails an access rule removed or loosened, naming the field, until it is acknowledged', async () => {
    const root = copyOfRepo();
    edit(root, 'subgraphs/users/schema.graphql', ' @policy(policies: [["owner"]])', '');
    // One more alternative: fewer scopes suffice.
    edit(root, 'subgraphs/catalog/schema.graphql', 'adjustStock(productId: ID!, delta: Int!): Product! @requiresScopes(scopes: [["catalog:write"]])', 'adjustStock(productId: ID!, delta: Int!): Product! @requiresScopes(scopes: [["catalog:write"], ["orders:write"]])');
    recompose(root);
    const refused = await check(root);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/^✘ changes +against .*: 2 breaking, 0 acknowledged, 0 dangerous, 0 safe, 2 access loosened, 0 access tightened$/m);
    expect(refused.output).toMatch(/BREAKING +access:User\.email: access loosened from policy\(owner\) to public/);
    expect(refused.output).toMatch(/BREAKING +access:Mutation\.adjustStock: access loosened from scopes\(catalog:write\) to scopes\(catalog:write \| orders:write\)/);
    expect(refused.output).toContain('- change: access:User.email');

    writeFileSync(
      path.join(root, 'schema-changes.acknowledged.yaml'),
      'acknowledged:\n  - change: access:User.email\n    reason: emails are public now\n  - change: access:Mutation.adjustStock\n    reason: stock is adjusted by orders too\n',
    );
    const accepted = await check(root);
    expect(accepted.ok).toBe(true);
    expect(accepted.output).toMatch(/acknowledged +access:User\.email: access loosened from policy\(owner\) to public \(reason: emails are public now\)/);
  });

  it('reports an access rule added or tightened with the clients whose usage reads the field, and passes', async () => {
    const root = copyOfRepo();
    edit(root, 'subgraphs/catalog/schema.graphql', '  stock: Int! @cacheControl(maxAge: 30)\n', '  stock: Int! @cacheControl(maxAge: 30) @requiresScopes(scopes: [["catalog:write"]])\n');
    recompose(root);
    const usage: UsageReport = {
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-30T00:00:00.000Z',
      clients: [
        { name: 'admin', version: '2.1.0', operations: { AdjustStock: 4 }, fields: { 'Product.stock': 4 } },
        { name: 'web', version: '1.4.0', operations: { ProductList: 9 }, fields: { 'Product.name': 9 } },
      ],
    };
    const lines: string[] = [];
    const ok = await runSchemaCheck({ root, print: (l) => lines.push(l), usage });
    const output = lines.join('\n');
    expect(ok).toBe(true);
    expect(output).toMatch(/^✔ changes +against .*: 0 breaking, 0 acknowledged, 0 dangerous, 0 safe, 0 access loosened, 1 access tightened$/m);
    expect(output).toMatch(
      /tightened +access:Product\.stock: access tightened from public to scopes\(catalog:write\): callers who read it get null and UNAUTHORIZED_FIELD_OR_TYPE \(used from 2026-11-01T00:00:00.000Z to 2026-11-30T00:00:00.000Z by admin 2\.1\.0 \(4 operations\)\)/,
    );
  });

  it('compares with the previous commit on main, and with any revision given', async () => {
    const root = copyOfRepo();
    edit(root, 'subgraphs/catalog/schema.graphql', '  category: Category!\n  createdAt: DateTime!\n', '  category: Category!\n');
    recompose(root);
    execFileSync('git', ['checkout', '-q', 'main'], { cwd: root });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'remove createdAt'], { cwd: root });
    const onMain = await check(root);
    expect(onMain.output).toMatch(/^✘ changes +against HEAD~1 .*1 breaking/m);
    const sinceItself = await check(root, 'HEAD');
    expect(sinceItself.output).toMatch(/^✔ changes +against HEAD .*0 breaking/m);
    const missing = await check(root, 'no-such-revision');
    expect(missing.output).toMatch(/^✔ changes +not compared: revision no-such-revision does not exist/m);
  });
});
