// `npm run create-admin`: the first administrator of a deployment without demo data, created in a
// real database by the command itself, who then logs in through a started users subgraph.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import type { UsersDb } from '../../subgraphs/users/db.js';
import { users } from '../../subgraphs/users/server.js';
import { describeOnBackends, createPostgresDatabases, graphql, subgraphConfig } from '../support/harness.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command as an operator would, with the password in the environment or on stdin. */
function createAdmin(args: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/create-admin.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ADMIN_PASSWORD: '', LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const login = (url: string, email: string, password: string) =>
  graphql(url, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { email name role } } }', { e: email, p: password });

await describeOnBackends('npm run create-admin on %s', (backend) => {
  let dataDir: string;
  let postgres: Awaited<ReturnType<typeof createPostgresDatabases>> | undefined;
  let env: Record<string, string>;
  let server: RunningSubgraph<UsersDb> | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'create-admin-'));
    postgres = backend === 'postgres' ? await createPostgresDatabases() : undefined;
    env = postgres ? { USERS_DATABASE_URL: postgres.urls.users } : { DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await server?.close();
    await postgres?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  // The steps share one database and run in order: create, refuse a second account, then log in.
  it('creates an administrator with the password from ADMIN_PASSWORD', async () => {
    const fromEnv = await createAdmin(['--email', 'Ops@Shop.example', '--name', 'Ops'], { ...env, ADMIN_PASSWORD: 'correct horse battery' });
    expect(fromEnv).toMatchObject({ code: 0, stderr: '' });
    expect(fromEnv.stdout).toMatch(/^created administrator ops@shop\.example \(\S+\)\n$/);
  });

  it('creates another with the password from stdin', async () => {
    const fromStdin = await createAdmin(['--email=night@shop.example', '--name=Night Shift'], env, 'a piped password, 2nd\n');
    expect(fromStdin).toMatchObject({ code: 0, stderr: '' });
  });

  it('refuses an email that already has an account, and creates no account', async () => {
    const run = await createAdmin(['--email', 'OPS@shop.example', '--name', 'Again'], { ...env, ADMIN_PASSWORD: 'another good password' });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/email: an account with ops@shop\.example already exists/);
  });

  it('lets those administrators, and only them, log in through a started users subgraph', async () => {
    server = await startSubgraph(users, subgraphConfig('users', { seed: false, ...(postgres ? { databaseUrl: postgres.urls.users } : { dataDir }) }));
    const ops = await login(server.url, 'ops@shop.example', 'correct horse battery');
    expect(ops.errors).toBeUndefined();
    expect(ops.data!.login.user).toEqual({ email: 'ops@shop.example', name: 'Ops', role: 'ADMIN' });
    const me = await graphql(server.url, '{ me { email role } }', {}, ops.data!.login.token);
    expect(me.data!.me).toEqual({ email: 'ops@shop.example', role: 'ADMIN' });
    expect((await login(server.url, 'night@shop.example', 'a piped password, 2nd')).data!.login.user.role).toBe('ADMIN');
    expect((await login(server.url, 'ops@shop.example', 'another good password')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await server.db.client.user.findMany({ select: { email: true, name: true, role: true }, orderBy: { email: 'asc' } })).toEqual([
      { email: 'night@shop.example', name: 'Night Shift', role: 'ADMIN' },
      { email: 'ops@shop.example', name: 'Ops', role: 'ADMIN' },
    ]);
  });
});

// Input is checked before any database is opened, so these need no backend.
describe('npm run create-admin input', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'create-admin-input-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it.each([
    ['a short password', ['--email', 'a@shop.example', '--name', 'A'], 'eleven-char', 1, /password: must be at least 12 characters/],
    ['a published demo password', ['--email', 'a@shop.example', '--name', 'A'], 'demo-admin-1', 1, /password: is a published demo password/],
    ['no password at all', ['--email', 'a@shop.example', '--name', 'A'], '', 1, /password: must be at least 12 characters/],
    ['a malformed email', ['--email', 'not-an-email', '--name', 'A'], 'long enough password', 1, /email: must be a valid email address/],
    ['an empty name', ['--email', 'a@shop.example', '--name', '  '], 'long enough password', 1, /name: must not be empty/],
    ['a missing name', ['--email', 'a@shop.example'], 'long enough password', 2, /usage: ADMIN_PASSWORD=/],
    ['a password on the command line', ['--email', 'a@shop.example', '--name', 'A', '--password', 'long enough password'], '', 2, /never given on the command line/],
    ['an unknown option', ['--email', 'a@shop.example', '--name', 'A', '--role', 'CUSTOMER'], 'long enough password', 2, /Unknown option '--role'/],
  ])('refuses %s with a message naming it, and opens no database', async (_label, args, password, code, message) => {
    const run = await createAdmin(args as string[], { DATA_DIR: dataDir, ADMIN_PASSWORD: password as string });
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message as RegExp);
    expect(run.stdout).toBe('');
  });

  it('opened no database for any of them', async () => {
    expect(await readdir(dataDir)).toEqual([]);
  });
});
