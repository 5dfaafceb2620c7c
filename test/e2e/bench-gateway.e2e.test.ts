// `npm run bench:gateway` in its seconds-long smoke mode, so the benchmark keeps working: it starts
// the subgraphs, this gateway, Hive Gateway and a bare Apollo Gateway, checks that all three return
// identical data and prints its tables, the deferred product page's among them. The figures
// themselves are read by people, not asserted.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';

describe('npm run bench:gateway --smoke', () => {
  it('compares the three gateways on identical data and prints requests/s, latency, CPU and memory', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/gateway/index.ts', '--smoke'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    expect(output).toContain('gateways return identical data');
    expect(output).toMatch(/\| this gateway \| \d+ \|/);
    expect(output).toContain('Ratios (medians)');
    expect(output).toContain('Memory (MiB) after');
    expect(output).toMatch(/\| this gateway \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ % \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ % \| [\d.]+ \|/); // read after a full collection too
    // @defer: the deferred product page's first payload against the undeferred page, reviews slowed.
    expect(output).toMatch(/^\| deferred: first payload \(name, price, stock\) \| [\d.]+ \| [\d.]+ \|$/m);
    expect(output).toMatch(/^\| undeferred: whole response \| [\d.]+ \| [\d.]+ \|$/m);
    expect(output).toMatch(/^first payload of the deferred page \/ undeferred page \(p50\): [\d.]+$/m);
  }, 300_000);
});
