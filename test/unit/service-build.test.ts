// The compiled services (tools/service-build.ts) must never run stale code: a bundle is reused while
// its sources are unchanged and rebuilt as soon as one of them (here an imported module) changes.
// Packages are bundled in, CommonJS ones included, except those left to node_modules.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';
import { serviceBundles } from '../../tools/service-build.js';

describe('service bundles', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('are reused while the sources are unchanged and rebuilt when an imported file changes', async () => {
    await mkdir(path.join(ROOT, '.cache'), { recursive: true });
    dir = await mkdtemp(path.join(ROOT, '.cache', 'service-build-test-'));
    const entry = path.relative(ROOT, path.join(dir, 'src', 'main.ts'));
    const buildDir = path.join(dir, 'build');
    await mkdir(path.join(dir, 'src'));
    await writeFile(path.join(dir, 'src', 'main.ts'), "import { answer } from './answer.js';\nconst n: number = answer();\nconsole.log(n);\n");
    await writeFile(path.join(dir, 'src', 'answer.ts'), 'export const answer = (): number => 41;\n');
    const run = (file: string) => execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim();

    const first = (await serviceBundles([entry], buildDir))[entry]!;
    expect(run(first)).toBe('41');
    expect((await serviceBundles([entry], buildDir))[entry]).toBe(first);

    await writeFile(path.join(dir, 'src', 'answer.ts'), 'export const answer = (): number => 42;\n');
    const second = (await serviceBundles([entry], buildDir))[entry]!;
    expect(second).not.toBe(first);
    expect(run(second)).toBe('42');
  });

  it('carry the packages they import, CommonJS ones requiring Node built-ins too, and leave the external ones to node_modules', async () => {
    const entry = path.relative(ROOT, path.join(dir, 'src', 'packages.ts'));
    await writeFile(
      path.join(dir, 'src', 'packages.ts'),
      [
        "import express from 'express';", // CommonJS, requires node:http and friends
        "import { parse, print } from 'graphql';",
        "import { pino } from 'pino';", // external: finds its worker files at run time
        "console.log([typeof express().listen, print(parse('{ a }')).replace(/\\s+/g, ' '), typeof pino].join(' | '));",
      ].join('\n'),
    );
    const buildDir = path.join(dir, 'build-packages');
    const bundle = (await serviceBundles([entry], buildDir))[entry]!;
    expect(execFileSync(process.execPath, [bundle], { encoding: 'utf8' }).trim()).toBe('function | { a } | function');
    const files = readdirSync(buildDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'));
    const code = files.map((f) => readFileSync(path.join(buildDir, f), 'utf8')).join('\n');
    expect(code).not.toMatch(/from ["']graphql["']|from ["']express["']/); // bundled
    expect(code).toMatch(/from ["']pino["']/); // pino, imported from node_modules
  });
});
