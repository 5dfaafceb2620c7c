// The fault run (`npm run chaos`, scripts/chaos.ts), shorter: customers shop while services are
// killed, PostgreSQL is stopped and Redis killed, and every check it makes afterwards holds.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';
import { skipped } from '../support/available.js';

/** The run starts its own PostgreSQL cluster and redis-server: it needs their programs, not the shared servers. */
const missingPrograms = ['initdb', 'pg_ctl', 'redis-server'].filter((program) => spawnSync(program, ['--version']).status !== 0);
const why = missingPrograms.length > 0 ? `${missingPrograms.join(', ')} not installed` : undefined;

describe.skipIf(why !== undefined)(skipped('the fault run', why), () => {
  it("loses no stock, leaves nothing pending or held, answers every key with one order, tells the truth, delivers every event (to an administrator's stream through the gateway too) and never answers an internal error", { timeout: 300_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts'], {
      cwd: ROOT,
      env: { ...process.env, CHAOS_SECONDS: '24', CHAOS_CUSTOMERS: '8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A run that stopped before its report fails here with everything it printed.
    const start = output.indexOf('\n{\n  "seconds"');
    expect(start, output).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(output.slice(start + 1, output.indexOf('\n}', start) + 2)) as {
      failures: string[];
      answers: number;
      confirmed: number;
      adminStream: { ordersWhileOpen: number };
    };
    expect(report.failures, output).toEqual([]);
    expect(report.confirmed).toBeGreaterThan(0);
    // The administrator's stream through the gateway had orders to receive, so its check meant something.
    expect(report.adminStream.ordersWhileOpen, output).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
