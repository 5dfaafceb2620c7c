// The import boundaries of eslint.config.js bite: snippets linted as if they were files at the given
// paths (nothing is written). The type-aware rules are off here: they need files their tsconfig
// includes, and they are not what this test is about.
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';

const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  const messages = result!.messages;
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('import boundaries (eslint.config.js)', () => {
  it.each([
    ['subgraphs/users/x.ts', "import { x } from '../../gateway/server.js';", /a subgraph never imports the gateway/],
    ['subgraphs/users/x.ts', "import { x } from '../catalog/db.js';", /a subgraph never imports another subgraph/],
    ['subgraphs/orders/nested/x.ts', "export { x } from '../../../subgraphs/users/db.js';", /a subgraph never imports another subgraph/],
    ['subgraphs/reviews/x.ts', "import type { X } from '../../prisma/catalog/generated/client.js';", /subgraphs\/reviews uses only its own database/],
    ['subgraphs/catalog/x.ts', "import { x } from '../../test/support/harness.js';", /runtime code .* never imports tools\/, scripts\/, bench\/ or test\//],
    ['lib/server/x.ts', "import { x } from '../../tools/service-build.js';", /runtime code .* never imports tools\//],
    ['lib/x.ts', "import { x } from '../gateway/index.js';", /lib\/ is shared by every service/],
    ['lib/server/plugins/x.ts', "import { x } from '../../../subgraphs/users/db.js';", /lib\/ is shared by every service/],
    ['gateway/features/x.ts', "import { x } from '../../subgraphs/catalog/db.js';", /the gateway never imports a subgraph/],
    ['gateway/x.ts', "import { x } from '../scripts/start.js';", /runtime code .* never imports/],
    ['gateway/features/x.ts', "import type { UsageReport } from '../../tools/schema-check/usage.js';", /runtime code .* never imports tools\//],
    ['web/src/x.ts', "import { x } from '../../lib/config.js';", /web\/ imports only its own code/],
    ['web/src/pages/x.tsx', "import { x } from '../../../operations/catalog/products.graphql';", /web\/ imports only its own code/],
    ['prisma/users/seed.ts', "import { hashPassword } from '../../subgraphs/users/password.js';", /seeds never import subgraph or gateway code/],
    ['prisma/seed-data.ts', "import { x } from '../gateway/index.js';", /seeds never import subgraph or gateway code/],
  ])('%s: %s is refused', async (file, code, message) => {
    const errors = await boundaryErrors(file, `${code}\nexport {};\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it('lets each folder import what it may', async () => {
    const allowed: [string, string][] = [
      ['subgraphs/users/x.ts', "import { a } from '../../lib/security/password.js';\nimport { b } from './db.js';\nimport { c } from '../../prisma/users/seed.js';\nimport { d } from '../../prisma/seed-data.js';\nimport { e } from '@apollo/gateway';"],
      ['gateway/features/x.ts', "import type { UsageReport } from '../../lib/usage-report.js';\nimport { a } from '../../lib/config.js';"],
      ['web/src/pages/x.tsx', "import { a } from '../format.js';\nimport { b } from '../../../clients/generated/graphql.js';\nimport { c } from './ErrorMessage.js';\nimport { d } from 'react';"],
      ['web/src/x.ts', "import manifest from '../../operations/persisted-query-manifest.json';"],
      ['prisma/users/seed.ts', "import { hashPassword } from '../../lib/security/password.js';\nimport { x } from './generated/client.js';"],
      ['scripts/x.ts', "import { a } from '../subgraphs/users/db.js';\nimport { b } from '../tools/service-build.js';\nimport { c } from '../gateway/index.js';"],
    ];
    for (const [file, code] of allowed) expect(await boundaryErrors(file, `${code}\nexport {};\n`), file).toEqual([]);
  });
});
