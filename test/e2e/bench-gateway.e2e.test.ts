// `npm run bench:gateway` in its seconds-long smoke mode, so the benchmark keeps working: it starts
// the subgraphs, this gateway, Hive Gateway on both its planners and a bare Apollo Gateway, checks
// that all four return identical data and prints its tables. The figures themselves are read by
// people, not asserted. Three operations, in both forms, cover every source of the varied requests
// (category pages and cursors, customers' tokens, product ids); then the deferred product page's
// table.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';

describe('npm run bench:gateway --smoke', () => {
  it('compares the four gateways on identical data, varied and repeated, and prints requests/s, latency, CPU of every process, memory and the deferred product page', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/gateway/index.ts', '--smoke', '--only', 'Q3|Q4|ProductDetail'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('all 4 gateways return identical data for all 6 operations');
    expect(output.indexOf('web ProductDetail, varied')).toBeLessThan(output.indexOf('web ProductDetail, repeated'));
    expect(output).toMatch(/\| this gateway \| \d+ \|/);
    expect(output).toMatch(/\| Hive Gateway, Rust planner \| \d+ \|/);
    expect(output).toMatch(/\| all processes \|/);
    expect(output).toContain('Ratios (medians)');
    expect(output).toContain('Memory (MiB) after');
    expect(output).toMatch(/\| this gateway \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ % \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ % \| [\d.]+ \|/); // read after a full collection too
    // @defer: the deferred product page's first payload against the undeferred page, reviews slowed.
    expect(output).toMatch(/^\| deferred: first payload \(name, price, stock\) \| [\d.]+ \| [\d.]+ \|$/m);
    expect(output).toMatch(/^\| undeferred: whole response \| [\d.]+ \| [\d.]+ \|$/m);
    expect(output).toMatch(/^first payload of the deferred page \/ undeferred page \(p50\): [\d.]+$/m);
  }, 300_000);
});
