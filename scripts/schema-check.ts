// `npm run schema:check [-- --base <git revision>]` (or SCHEMA_CHECK_BASE): see lib/schema-check/run.ts.
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/paths.js';
import { runSchemaCheck } from '../lib/schema-check/run.js';

const { values } = parseArgs({ options: { base: { type: 'string' } } });
const ok = await runSchemaCheck({ root: ROOT, base: values.base ?? process.env.SCHEMA_CHECK_BASE });
process.exit(ok ? 0 : 1);
