// `npm run create-admin -- --email ops@shop.example --name "Ops"`: creates an administrator in the
// users database the environment names (USERS_DATABASE_URL, or the embedded one in DATA_DIR; stop
// the users service first when it is the embedded one). The password comes from ADMIN_PASSWORD or
// from stdin (typed at a hidden prompt, or piped), never from the command line, where `ps` and the
// shell history would keep it.
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadDatabaseConfig } from '../lib/config.js';
import { openDatabase } from '../lib/data/database.js';
import { createLogger } from '../lib/logger.js';
import { AdministratorError, checkAdministrator, createAdministrator, type AdministratorInput } from '../subgraphs/users/administrators.js';
import { createClient } from '../subgraphs/users/db.js';

const USAGE = 'usage: ADMIN_PASSWORD=... npm run create-admin -- --email <email> --name <name>   (or pipe the password on stdin)';

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

async function hiddenPrompt(question: string): Promise<string> {
  process.stderr.write(question);
  // The terminal's echo goes to a sink, so the password is not shown.
  const rl = createInterface({ input: process.stdin, output: new Writable({ write: (_chunk, _encoding, done) => done() }), terminal: true });
  try {
    return await rl.question('');
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  if (process.stdin.isTTY) {
    const password = await hiddenPrompt('Password: ');
    if ((await hiddenPrompt('Repeat it: ')) !== password) fail('the two passwords differ');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

if (process.argv.some((a) => /^--pass(word)?(=|$)/.test(a))) {
  fail('the password is never given on the command line (ps and the shell history would keep it): set ADMIN_PASSWORD or pipe it on stdin', 2);
}
let args: { email?: string; name?: string };
try {
  args = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } }, strict: true }).values;
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`, 2);
}
if (!args.email || !args.name) fail(USAGE, 2);

let input: AdministratorInput;
try {
  input = checkAdministrator({ email: args.email, name: args.name, password: await readPassword() });
} catch (err) {
  if (!(err instanceof AdministratorError)) throw err;
  fail(err.message);
}
const config = loadDatabaseConfig('users');
const logger = createLogger('create-admin', process.env.LOG_LEVEL ?? 'warn');
const db = await openDatabase({ name: 'users', url: config.databaseUrl, dataDir: config.dataDir, logger }, createClient);
try {
  const admin = await createAdministrator(db.client, input);
  console.log(`created administrator ${admin.email} (${admin.id})`);
} catch (err) {
  if (!(err instanceof AdministratorError)) throw err;
  process.exitCode = 1;
  console.error(err.message);
} finally {
  await db.close();
}
// The schema engine may keep an idle pooled connection alive for a while; nothing is left to do.
process.exit();
