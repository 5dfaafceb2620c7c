// `npm run schema:check [-- --base <git revision>] [--usage <report.json>]` (or SCHEMA_CHECK_BASE):
// see tools/schema-check/run.ts; the usage report comes from `npm run usage:report`.
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/paths.js';
import { runSchemaCheck } from '../tools/schema-check/run.js';
import { readUsageReport } from '../tools/schema-check/usage.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, usage: { type: 'string' } } });
let usage;
try {
  usage = values.usage ? readUsageReport(values.usage) : undefined;
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const ok = await runSchemaCheck({ root: ROOT, base: values.base ?? process.env.SCHEMA_CHECK_BASE, usage });
process.exit(ok ? 0 : 1);
