// `npm run usage:report -- [--gateway <url>]... [--out <file>]`: fetches the usage report of each
// gateway replica (GET /usage, with an administrator token from USAGE_REPORT_TOKEN), merges them
// and writes one file, for `npm run schema:check -- --usage <file>`.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { UsageReport } from '../lib/usage-report.js';
import { mergeUsageReports } from '../tools/schema-check/usage.js';
import { DEFAULT_PORTS } from '../lib/services.js';

const { values } = parseArgs({
  options: { gateway: { type: 'string', multiple: true }, out: { type: 'string', default: 'usage-report.json' } },
});
const token = process.env.USAGE_REPORT_TOKEN;
if (!token) {
  console.error('USAGE_REPORT_TOKEN must hold an administrator token (log in as an administrator: the login mutation returns it)');
  process.exit(2);
}
const gateways = values.gateway ?? [`http://localhost:${DEFAULT_PORTS.gateway}`];
const reports: UsageReport[] = [];
for (const gateway of gateways) {
  const url = new URL('/usage', gateway);
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch((err: Error) => {
    console.error(`${url}: ${err.message}`);
    process.exit(1);
  });
  const body = (await response.json().catch(() => null)) as (UsageReport & { errors?: { message: string }[] }) | null;
  if (!response.ok || !body || body.errors) {
    console.error(`${url}: HTTP ${response.status}${body?.errors ? `: ${body.errors.map((e) => e.message).join('; ')}` : ''}`);
    process.exit(1);
  }
  reports.push(body);
}
const merged = mergeUsageReports(reports);
writeFileSync(values.out, `${JSON.stringify(merged, null, 2)}\n`);
console.log(`${values.out}: ${merged.clients.length} client versions from ${merged.from} to ${merged.to} (${gateways.length} gateway${gateways.length === 1 ? '' : 's'})`);
