// The documentation stays true to the repository: every relative link in README.md, CONTRIBUTING.md
// and docs/*.md leads to a file (and, for `#anchor` links, a heading) that exists, and the table of
// docs/configuration.md names exactly the environment variables the code reads.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envVarsOf } from '../../lib/config.js';
import { ROOT } from '../../lib/paths.js';
import { SERVICE_NAMES } from '../../lib/services.js';

const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** The lines of a markdown text outside fenced code blocks, where headings and links live. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** GitHub's anchor for a heading: its text in lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a markdown file offers: its headings' slugs, a repeated one suffixed -1, -2... */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The targets of the inline links and images of a markdown text (code spans and blocks excluded). */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const text = line.replace(/(`+)[^`]*?\1/g, '');
    for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
  }
  return targets;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** What is wrong with each relative link of a page: a missing file, or a missing heading. */
function brokenLinks(page: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(read(page))) {
    if (isExternal(target)) continue;
    const [rawPath = '', anchor] = target.split('#', 2);
    const linked = rawPath === '' ? page : path.posix.normalize(path.posix.join(rawPath.startsWith('/') ? '' : path.posix.dirname(page), decodeURIComponent(rawPath)));
    if (!existsSync(path.join(ROOT, linked))) {
      problems.push(`${target}: no file ${linked}`);
      continue;
    }
    if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(read(linked)).has(anchor)) {
      problems.push(`${target}: no heading with the anchor #${anchor} in ${linked}`);
    }
  }
  return problems;
}

describe('documentation links', () => {
  it('anchors are GitHub heading slugs', () => {
    expect(slug('Live updates (subscriptions)')).toBe('live-updates-subscriptions');
    expect(slug('Clients: persisted operations, caching and the web shop')).toBe('clients-persisted-operations-caching-and-the-web-shop');
    expect(slug('`npm run schema:check` and `OPERATIONS_ADMIN_KEY`')).toBe('npm-run-schemacheck-and-operations_admin_key');
    expect(slug('Run it, test it')).toBe('run-it-test-it');
    expect([...anchorsOf('# Setup\n```sh\n# not a heading\n```\n## Setup\n')]).toEqual(['setup', 'setup-1']);
  });

  it.each(PAGES)('every relative link in %s leads to an existing file and heading', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it('a broken link or anchor is reported', () => {
    const markdown = '[ok](#a) [gone](missing.md) `[code](nowhere.md)`\n# A\n';
    expect(linkTargets(markdown)).toEqual(['#a', 'missing.md']);
    expect(anchorsOf(markdown).has('a')).toBe(true);
  });

  it('the README is a front door of at most 200 lines that links every page of docs/', () => {
    const readme = read('README.md');
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
    const linked = new Set(linkTargets(readme).map((target) => target.split('#')[0]));
    expect(PAGES.filter((page) => page.startsWith('docs/') && !linked.has(page))).toEqual([]);
  });
});

/** The variable names in the first column of the table under `## Variables` in docs/configuration.md. */
function documentedVariables(): string[] {
  const lines = read('docs/configuration.md').split('\n');
  const start = lines.indexOf('## Variables');
  expect(start, 'docs/configuration.md has a "## Variables" section').toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (!line.startsWith('|')) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(match[1]!);
  }
  return names;
}

const SOURCE_DIRS = ['lib', 'gateway', 'subgraphs', 'scripts', 'tools', 'bench', 'test/support', 'web/src'];
/** The shell's own variables, which a tool passes on to a child process; not the project's settings. */
const SYSTEM_VARIABLES = new Set(['PATH', 'HOME']);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.parentPath.includes(`${path.sep}generated`))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Variables the code reads by name outside lib/config.ts (`process.env.X`, `env.X`), and the compose file's `${X}`. */
function variablesReadDirectly(): Set<string> {
  const names = new Set<string>();
  const files = [...SOURCE_DIRS.flatMap(sourceFiles), 'web/vite.config.ts'];
  for (const file of files) {
    for (const match of read(file).matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b/g)) names.add(match[1]!);
  }
  for (const match of read('docker-compose.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) names.add(match[1]!);
  for (const name of SYSTEM_VARIABLES) names.delete(name);
  return names;
}

describe('docs/configuration.md', () => {
  it('lists every variable the services accept, and every one the code and compose file read by name, and no other', () => {
    const accepted = new Set(['gateway' as const, ...SERVICE_NAMES].flatMap((service) => envVarsOf(service)));
    const expected = new Set([...accepted, ...variablesReadDirectly()]);
    const documented = documentedVariables();
    const missing = [...expected].filter((name) => !documented.includes(name)).sort();
    // The OpenTelemetry SDK reads its standard OTEL_* variables itself (service name, sampler...).
    const extra = documented.filter((name) => !expected.has(name) && !name.startsWith('OTEL_')).sort();
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it('names each variable in one row only', () => {
    const documented = documentedVariables();
    expect(documented.filter((name, i) => documented.indexOf(name) !== i)).toEqual([]);
  });
});
