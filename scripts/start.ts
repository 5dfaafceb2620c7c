// `npm start`: the four subgraphs and the gateway as separate processes, like in production.
// Waits until every one is ready, builds the web shop if its sources changed, prints where to go,
// and stops them all on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { pgliteTemplatePath, ROOT } from '../lib/paths.js';
import { SERVICE_ENTRIES, serviceBundles } from '../tools/service-build.js';
import { generate } from './generate.js';
import { databaseUrlVar, DEFAULT_PORTS, portVar, SERVICE_NAMES, urlVar } from '../lib/services.js';
import { buildWeb, WEB_DIST } from './build-web.js';

const started = Date.now();
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
// A machine's first start: the embedded databases' empty template (an initdb, seconds of CPU) is
// made in a process of its own while the Prisma clients are generated, rather than after, while
// every subgraph would wait for it. A subgraph that finds it still being made waits (lib/data/pglite.ts).
// Node's optimising WebAssembly compiler is left out there: it costs more than it saves in a process
// that runs the initdb once and exits.
const embedded = SERVICE_NAMES.some((name) => !process.env[databaseUrlVar(name)]);
const template =
  embedded && !existsSync(pgliteTemplatePath('empty'))
    ? spawn(process.execPath, ['--liftoff-only', '--import', 'tsx', path.join(ROOT, 'scripts', 'database-template.ts')], { cwd: ROOT, stdio: 'inherit' })
    : undefined;
// The Prisma clients, in this process: it does nothing when their inputs have not changed.
await generate({ types: false });
const port = (name: (typeof SERVICE_NAMES)[number]) => Number(process.env[portVar(name)] ?? DEFAULT_PORTS[name]);
const gatewayPort = Number(process.env.GATEWAY_PORT ?? DEFAULT_PORTS.gateway);
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
// Services find each other on the ports chosen here, unless told otherwise.
for (const name of SERVICE_NAMES) env[urlVar(name)] ??= `http://localhost:${port(name)}/graphql`;
// The gateway serves the web shop from here; it is built once the services answer (see below).
env.WEB_ROOT ??= WEB_DIST;
const children = new Map<string, ChildProcess>();
const startedSignal = new Map<string, Promise<void>>();
let stopping = false;

// Plain JavaScript compiled once (see tools/service-build.ts); through tsx if that cannot be built.
const bundles = await serviceBundles(SERVICE_ENTRIES).catch((err: unknown) => {
  console.error(`running the TypeScript sources through tsx (could not compile them: ${err instanceof Error ? err.message : err})`);
  return undefined;
});

function run(name: string, entry: string) {
  const bundle = bundles?.[entry];
  const args = bundle ? ['--enable-source-maps', bundle] : ['--import', 'tsx', path.join(ROOT, entry)];
  // The IPC channel carries one message, 'started' (lib/server/main.ts), so readiness is checked only then.
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  children.set(name, child);
  startedSignal.set(name, new Promise<void>((resolve) => {
    child.on('message', (m) => m === 'started' && resolve());
    child.once('exit', () => resolve());
  }));
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the others`);
      void stop(1);
    }
  });
}

async function waitReady(name: string, port: number, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  await Promise.race([startedSignal.get(name), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  while (Date.now() < deadline) {
    if (stopping) return;
    const ok = await fetch(`http://localhost:${port}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not become ready on port ${port}`);
}

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  template?.kill('SIGTERM');
  for (const child of children.values()) child.kill('SIGTERM');
  await Promise.all([...children.values()].map((c) => new Promise((r) => c.once('exit', r))));
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

for (const name of SERVICE_NAMES) run(name, `subgraphs/${name}/index.ts`);
run('gateway', 'gateway/index.ts');
try {
  await Promise.all([...SERVICE_NAMES.map((name) => waitReady(name, port(name))), waitReady('gateway', gatewayPort)]);
} catch (err) {
  console.error(String(err));
  await stop(1);
}
const apiReady = seconds(started);
// The shop's build (when its sources changed: a first start) waits until the API answers, so the
// API is not kept waiting for a static build that competes with the services for the CPU.
const webBuildStarted = Date.now();
const webBuild = await buildWeb().then(
  (built) => (built ? `, the web shop built in ${seconds(webBuildStarted)} more` : ''),
  (err: unknown) => {
    console.error(`the web shop could not be built: ${err}`);
    return ', the web shop not built (see above)';
  },
);
const gatewayUrl = `http://localhost:${gatewayPort}/graphql`;
console.log(`
  Commerce supergraph ready in ${apiReady}${webBuild}

  Web shop                    http://localhost:${gatewayPort}/
  Gateway and Apollo Sandbox  ${gatewayUrl}
${SERVICE_NAMES.map((n) => `  ${n.padEnd(26)}  http://localhost:${port(n)}/graphql`).join('\n')}

  Demo accounts: admin@example.com / demo-admin-1, alice@example.com / demo-alice-1
  Press Ctrl-C to stop.
`);
