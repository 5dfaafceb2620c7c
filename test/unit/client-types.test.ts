// The typed operations hold the clients to the schema: a schema change that keeps every operation
// valid but changes a type the shop relies on fails the shop's type check. The shop is checked in
// a copy whose typed operations are generated from the current API schema (it passes) and from one
// where Product.averageRating became a String (it fails, naming the shop's file).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { afterAll, describe, expect, it } from 'vitest';
import config, { API_SCHEMA_PATH, CLIENT_OPERATIONS_DIR } from '../../codegen.js';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE } from '../../lib/persisted-manifest.js';

const require = createRequire(import.meta.url);
// Inside the project, so that the copy finds node_modules as the shop does.
const WORK = path.join(ROOT, '.cache', `client-types-${process.pid}`);
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

/** Type-checks a copy of the shop against typed operations generated from `schema`; returns tsc's output, or '' when it passes. */
async function typecheckShopAgainst(schema: string, name: string): Promise<string> {
  const dir = path.join(WORK, name);
  cpSync(path.join(ROOT, 'web', 'src'), path.join(dir, 'web', 'src'), { recursive: true });
  cpSync(path.join(ROOT, 'web', 'tsconfig.json'), path.join(dir, 'web', 'tsconfig.json'));
  cpSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  cpSync(path.join(ROOT, MANIFEST_FILE), path.join(dir, MANIFEST_FILE)); // the shop imports the manifest's ids
  const entry = config.generates[CLIENT_OPERATIONS_DIR] as Exclude<(typeof config.generates)[string], string | string[]>;
  const files = await generate(
    { silent: true, cwd: ROOT, generates: { [path.join(dir, CLIENT_OPERATIONS_DIR)]: { ...entry, schema } } },
    false,
  );
  for (const file of files as { filename: string; content: string }[]) {
    mkdirSync(path.dirname(file.filename), { recursive: true });
    writeFileSync(file.filename, file.content);
  }
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(dir, 'web')], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('typed client operations', () => {
  const current = readFileSync(path.join(ROOT, API_SCHEMA_PATH), 'utf8');

  it('type-check the shop against the current API schema', async () => {
    expect(await typecheckShopAgainst(current, 'current')).toBe('');
  }, 180_000);

  it('fail the shop type check when a schema change breaks a type it relies on', async () => {
    const changed = current.replace(/(averageRating): Float/, '$1: String');
    expect(changed).not.toBe(current);
    const output = await typecheckShopAgainst(changed, 'changed');
    expect(output).toMatch(/web\/src\/pages\/Product(List)?Page\.tsx\(\d+,\d+\): error TS2345/);
  }, 180_000);
});
