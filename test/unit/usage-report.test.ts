// The usage report's file format (lib/usage-report.ts) as the tooling reads and merges it
// (tools/schema-check/usage.ts, `npm run usage:report`): each client's cost beside its fields,
// reports written before the gateway recorded cost still read, a malformed cost refused by path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeUsageReports, readUsageReport, type UsageReport } from '../../tools/schema-check/usage.js';

const dir = mkdtempSync(path.join(tmpdir(), 'usage-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const at = path.join(dir, name);
  writeFileSync(at, JSON.stringify(content));
  return at;
};

const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z' };
const web = { name: 'web', version: '2.4.0', operations: { ProductList: 2 }, fields: { 'Query.products': 2 } };
const figures = (count: number, sum: number, max: number) => ({ count, sum, max });

describe('the usage report', () => {
  it('reads a report with each client cost, and one written before cost was recorded', () => {
    const withCost: UsageReport = { ...period, clients: [{ ...web, cost: { estimated: figures(2, 90, 50), actual: figures(2, 30, 20) } }] };
    expect(readUsageReport(file('with-cost.json', withCost))).toEqual(withCost);
    const old = { ...period, clients: [web] };
    expect(readUsageReport(file('old.json', old))).toEqual(old);
  });

  it('refuses a malformed cost, naming the file and where', () => {
    const at = file('bad.json', { ...period, clients: [{ ...web, cost: { estimated: figures(1, 5, 5), actual: { count: -1, sum: 0, max: 0 } } }] });
    expect(() => readUsageReport(at)).toThrow(/usage report .*bad\.json: clients\.0\.cost\.actual\.count/);
    expect(() => readUsageReport(file('partial.json', { ...period, clients: [{ ...web, cost: { estimated: figures(1, 5, 5) } }] }))).toThrow(/clients\.0\.cost\.actual/);
  });

  it('merges replicas: operations and costs added, the largest kept, a replica without cost adding none', () => {
    const a: UsageReport = { ...period, clients: [{ ...web, cost: { estimated: figures(2, 90, 50), actual: figures(2, 30, 20) } }] };
    const b: UsageReport = { ...period, clients: [{ ...web, cost: { estimated: figures(1, 70, 70), actual: figures(1, 10, 10) } }] };
    const old: UsageReport = { ...period, clients: [web, { name: 'mobile', version: '1.0.0', operations: { HomeFeed: 1 }, fields: {} }] };
    const merged = mergeUsageReports([a, old, b]);
    expect(merged.clients).toEqual([
      { name: 'mobile', version: '1.0.0', operations: { HomeFeed: 1 }, fields: {} },
      { ...web, operations: { ProductList: 6 }, fields: { 'Query.products': 6 }, cost: { estimated: figures(3, 160, 70), actual: figures(3, 40, 20) } },
    ]);
  });
});
