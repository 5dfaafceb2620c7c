// The service processes a benchmark runs: each a separate Node process started from the project
// root (so its CPU time and resident memory can be read from /proc), waited for until its GraphQL
// URL answers, and stopped at the end.
import { spawn } from 'node:child_process';
import { ROOT } from '../../lib/paths.js';
import { answers } from './graphql.js';
import { waitUntil } from './ready.js';

export interface Service {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts `node <args>` from the project root (or `cwd`: another checkout) and waits until `url` answers a GraphQL request. */
export async function startService(name: string, args: string[], env: NodeJS.ProcessEnv, url: string, cwd = ROOT): Promise<Service> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await waitUntil(() => answers(url), { what: url, child, output: () => output, timeoutMs: 180_000, intervalMs: 250 });
  return {
    name,
    pid: child.pid!,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export const stopAll = (services: Service[]) => Promise.all(services.map((s) => s.stop()));
