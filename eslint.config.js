// `npm run lint`: typescript-eslint's recommended rules, the type-aware promise rules (a promise
// nobody awaits loses its rejection, an async callback where a sync one is expected runs unchecked)
// and the import boundaries of the layout (see BOUNDARIES below).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
const SUBGRAPHS = readdirSync(path.join(ROOT, 'subgraphs'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

const TOOLING = ['tools', 'scripts', 'bench', 'test'];
const TOOLING_MESSAGE =
  'runtime code (lib/, gateway/, subgraphs/, seeds) never imports tools/, scripts/, bench/ or test/: the service bundles ' +
  'and the image would carry build tooling and its devDependencies. Put what both need in lib/ (e.g. the file formats lib/persisted-manifest.ts and lib/usage-report.ts).';

/**
 * Who may not import what. `from` is a folder (relative to the root) whose files the rule applies to;
 * each `forbid` names root-relative folders they must not import, and why. Files of one folder are
 * matched by exactly one entry (flat config replaces a rule's options, it does not merge them).
 */
const BOUNDARIES = [
  ...SUBGRAPHS.map((name) => {
    const others = SUBGRAPHS.filter((n) => n !== name);
    return {
      from: `subgraphs/${name}`,
      forbid: [
        {
          to: ['gateway'],
          message: 'a subgraph never imports the gateway: the gateway depends on the subgraphs (over HTTP), not the reverse. Shared code goes in lib/.',
        },
        {
          to: others.map((n) => `subgraphs/${n}`),
          message: `a subgraph never imports another subgraph: each owns its types and data and they meet only through the graph (entities, lib/subgraph/service-client). Shared code goes in lib/.`,
        },
        {
          to: others.map((n) => `prisma/${n}`),
          message: `subgraphs/${name} uses only its own database (prisma/${name}/): another subgraph's Prisma client or seed couples their schemas; ask that subgraph through the graph.`,
        },
        { to: TOOLING, message: TOOLING_MESSAGE },
      ],
    };
  }),
  {
    from: 'gateway',
    forbid: [
      {
        to: ['subgraphs', 'prisma'],
        message: 'the gateway never imports a subgraph (or its database): it reaches them through the supergraph over HTTP, and an import would bundle a subgraph into the gateway.',
      },
      { to: TOOLING, message: TOOLING_MESSAGE },
    ],
  },
  {
    from: 'lib',
    forbid: [
      {
        to: ['gateway', 'subgraphs', 'prisma'],
        message: 'lib/ is shared by every service, so it depends on none of them: never imports gateway/, subgraphs/ or a subgraph\'s prisma/ folder. Pass what it needs in as a parameter.',
      },
      { to: TOOLING, message: TOOLING_MESSAGE },
    ],
  },
  {
    from: 'prisma',
    forbid: [
      {
        to: ['subgraphs', 'gateway'],
        message: 'seeds never import subgraph or gateway code: a subgraph imports its seed, so the arrow would run both ways. Put what both need in lib/ (as lib/security/password.ts).',
      },
      { to: TOOLING, message: TOOLING_MESSAGE },
    ],
  },
  {
    from: 'web',
    // The shop is a browser bundle built by Vite from web/ alone: anything outside it except the
    // generated typed operations and the persisted-query manifest is server code or tooling.
    leaveOnlyTo: ['clients/generated/', 'operations/persisted-query-manifest.json'],
    message: 'web/ imports only its own code, the generated operations (clients/generated/) and operations/persisted-query-manifest.json (and npm packages): server code and tooling do not belong in the browser bundle.',
  },
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Folders below the root that the boundaries cover (the deepest source file today is at 3). */
const MAX_DEPTH = 8;

/**
 * The no-restricted-imports patterns for a file `depth` folders below the root inside `from`. A
 * relative specifier climbs k folders and then names a path: climbing fewer than (depth - depth of
 * `from`) stays inside `from`; climbing more reaches a known ancestor, so the target's specifier
 * from there is exact (no false hits on a same-named folder deeper inside `from`).
 */
function patternsAt(boundary, depth) {
  const fromParts = boundary.from.split('/');
  const climb = (k) => (k === 0 ? '\\./' : `(?:\\.\\./){${k}}`);
  if (boundary.leaveOnlyTo) {
    const allowed = boundary.leaveOnlyTo.map((t) => (t.endsWith('/') ? escape(t) : `${escape(t)}$`)).join('|');
    return [{ regex: `^${climb(depth)}(?!${allowed})`, message: boundary.message }];
  }
  return boundary.forbid.map(({ to, message, allowTypeImports }) => {
    const alternatives = [];
    for (const target of to) {
      const targetParts = target.split('/');
      for (let k = depth - fromParts.length; k <= depth; k++) {
        const prefix = fromParts.slice(0, depth - k);
        if (prefix.some((p, i) => targetParts[i] !== p) || prefix.length >= targetParts.length) continue;
        alternatives.push(`${climb(k)}${escape(targetParts.slice(prefix.length).join('/'))}`);
      }
    }
    return { regex: `^(?:${alternatives.join('|')})(?:/|$)`, message, ...(allowTypeImports ? { allowTypeImports } : {}) };
  });
}

const boundaryConfigs = BOUNDARIES.flatMap((boundary) => {
  const base = boundary.from.split('/').length;
  return Array.from({ length: MAX_DEPTH - base + 1 }, (_, i) => ({
    name: `boundaries/${boundary.from}/depth-${base + i}`,
    files: [`${boundary.from}/${'*/'.repeat(i)}*.{ts,tsx,js,mjs}`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: patternsAt(boundary, base + i) }] },
  }));
});

export default defineConfig(
  globalIgnores([
    'node_modules/',
    'prisma/*/generated/',
    'subgraphs/*/generated/',
    'clients/generated/',
    'web/dist/',
    '.cache/',
    '.data/',
    'coverage/',
    'test-results/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'type-aware',
    files: ['**/*.{ts,tsx}'],
    languageOptions: {
      // Each file checked with its own tsconfig: web/tsconfig.json for web/src, tsconfig.json for the rest.
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    name: 'unused',
    rules: {
      // `_`-named bindings are dropped on purpose (`const { secret: _, ...rest } = x`); the rest
      // operand needs the name. The compiler's noUnusedLocals reports the others too.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    name: 'tests-and-benchmarks',
    files: ['test/**', 'bench/**'],
    // Tests read JSON responses and drive protocol clients whose payloads are `any` by nature; the
    // runtime code (lib/, gateway/, subgraphs/, web/) has none and keeps the rule.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  boundaryConfigs,
);
