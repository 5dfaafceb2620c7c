// `npm run bench:start`: how long `npm start` takes to answer, measured the way a user meets it.
// It copies the project's files (those git tracks or would track: no .cache/, no .data/, no
// generated code) to a temporary folder beside the installed node_modules, runs `npm start` there
// twice (first on that fresh clone, with an empty temporary folder so no transpile cache helps;
// then again, as a later start would) and prints, for each, the seconds from launch to the first
// answer through the gateway that reaches all four subgraphs, and the CPU seconds each process used
// until then (steadier than wall time on a busy machine). `--keep` leaves the folder for a look.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshClone } from '../tools/fresh-clone.js';
import { parseFlags } from './runner/flags.js';
import { graphqlUrl, post } from './runner/graphql.js';
import { freePort } from './runner/ports.js';
import { cpuMs, processTree } from './runner/proc.js';
import { waitUntil } from './runner/ready.js';
import { sum } from './runner/stats.js';
import { datedHeader, printTableHead, row } from './runner/table.js';

const args = parseFlags('npm run bench:start: seconds and CPU from `npm start` to a first answer through all four subgraphs, on a fresh clone and on a later start.', {
  keep: { type: 'boolean', help: 'keep the cloned folder, for a look' },
});

// One query that needs every subgraph: catalog (products), reviews (reviews, averageRating), users
// (author) and orders (shippingEstimate).
const QUERY = `{ products(first: 2) { edges { node { name averageRating shippingEstimate { amount }
  reviews(first: 1) { edges { node { rating author { name } } } } } } } }`;

/** A short name for a process of `npm start`'s tree. */
function roleOf(command: string): string {
  const service = /(subgraphs\/(\w+)|gateway)\/index\.(?:ts|js|mjs)/.exec(command);
  if (service) return service[2] ?? 'gateway';
  if (/scripts\/start\.(?:ts|js|mjs)/.test(command)) return 'start (launcher)';
  if (/scripts\/database-template\.(?:ts|js|mjs)/.test(command)) return 'database template (initdb)';
  if (/esbuild --service/.test(command)) return 'esbuild';
  if (/prisma\/build\/index\.js/.test(command)) return 'prisma generate';
  if (/\bnpm\b/.test(command)) return 'npm';
  return command.split(' ').slice(0, 2).join(' ');
}

interface ProductsAnswer {
  products?: { edges: { node: { shippingEstimate: unknown; reviews: { edges: { node: { author: { name: string } | null } }[] } } }[] };
}

interface Run {
  seconds: number;
  banner: string | undefined;
  cpu: Map<string, number>;
}

async function measure(dir: string, env: NodeJS.ProcessEnv, label: string): Promise<Run> {
  const ports = { GATEWAY_PORT: await freePort(), USERS_PORT: await freePort(), CATALOG_PORT: await freePort(), ORDERS_PORT: await freePort(), REVIEWS_PORT: await freePort() };
  const began = performance.now();
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: dir,
    env: { ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the whole tree stops together
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // CPU is read from /proc while the processes live, so every process counts until it ends.
  const cpu = new Map<number, { role: string; ms: number }>();
  const sample = () => {
    for (const { pid, command } of processTree(child.pid!)) {
      try {
        // A process that has exited but not been reaped has no command line: keep its earlier name.
        // Otherwise the latest: a child is first seen with its parent's command line, until it execs.
        const role = command ? roleOf(command) : cpu.get(pid)?.role;
        if (!role) continue;
        cpu.set(pid, { role, ms: cpuMs(pid) });
      } catch {
        // ended between listing and reading
      }
    }
  };
  const sampler = setInterval(sample, 50);
  const gateway = graphqlUrl(ports.GATEWAY_PORT);
  const reachesAll = async () => {
    const body = await post(gateway, { query: QUERY }).catch(() => undefined);
    const node = (body?.data as ProductsAnswer | undefined)?.products?.edges[0]?.node;
    return Boolean(node && !body!.errors && node.shippingEstimate && node.reviews.edges[0]?.node.author?.name);
  };
  try {
    await waitUntil(reachesAll, { what: `${label}: npm start`, child, output: () => output.slice(-3000), timeoutMs: 300_000, intervalMs: 50 });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - began) / 1000;
  sample();
  const stopped = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGINT');
  await stopped;
  const banner = /ready in ([\d.]+) s/.exec(output)?.[1];
  const byRole = new Map<string, number>();
  for (const { role, ms } of cpu.values()) byRole.set(role, (byRole.get(role) ?? 0) + ms);
  return { seconds, banner, cpu: byRole };
}

const dir = freshClone();
const tsxCache = mkdtempSync(path.join(tmpdir(), 'commerce-bench-tmp-'));
// A clean environment: the embedded databases (no DATABASE_URL), development mode, a cold tmp.
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tsxCache, LOG_LEVEL: 'error' };
try {
  const runs: [string, Run][] = [];
  runs.push(['fresh clone', await measure(dir, env, 'fresh clone')]);
  runs.push(['later start', await measure(dir, env, 'later start')]);
  const roles = [...new Set(runs.flatMap(([, r]) => [...r.cpu.keys()]))];
  console.log(`\n${datedHeader('npm start to the first answer reaching all four subgraphs')}\n`);
  printTableHead(['', ...runs.map(([name]) => name)]);
  console.log(row(['seconds to the first answer', ...runs.map(([, r]) => r.seconds.toFixed(1))]));
  console.log(row(['"ready in" printed by npm start', ...runs.map(([, r]) => (r.banner ? `${r.banner} s` : '-'))]));
  for (const role of roles) console.log(row([`CPU s, ${role}`, ...runs.map(([, r]) => ((r.cpu.get(role) ?? 0) / 1000).toFixed(2))]));
  console.log(row(['CPU s, all processes', ...runs.map(([, r]) => (sum([...r.cpu.values()]) / 1000).toFixed(2))]));
  console.log('\nWall time depends on what else the machine runs; CPU seconds are steadier.');
} finally {
  if (args.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  rmSync(tsxCache, { recursive: true, force: true });
}
