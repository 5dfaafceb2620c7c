// The usage report (gateway/features/usage.ts, `npm run usage:report`): which client used which schema
// field in a period, and what its operations cost. `npm run schema:check -- --usage FILE` reads it to name, for every breaking
// change, the clients that used what it breaks.
import { readFileSync } from 'node:fs';
import { addCost, usageReportSchema, type ClientUsage, type UsageReport } from '../../lib/usage-report.js';

// The format lives on the runtime side (the gateway writes the report); re-exported for the tooling.
export type { ClientUsage, UsageReport } from '../../lib/usage-report.js';

/** Reads and checks a report file; the error names the file and what is wrong in it. */
export function readUsageReport(file: string): UsageReport {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`usage report ${file}: ${(err as Error).message}`);
  }
  const parsed = usageReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`usage report ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** One report for several (one per gateway replica): counts added, the widest period. */
export function mergeUsageReports(reports: UsageReport[]): UsageReport {
  const clients = new Map<string, ClientUsage>();
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  for (const report of reports) {
    for (const c of report.clients) {
      const key = `${c.name}\u0000${c.version}`;
      const merged = clients.get(key) ?? { name: c.name, version: c.version, operations: {}, fields: {} };
      add(merged.operations, c.operations);
      add(merged.fields, c.fields);
      const cost = addCost(merged.cost, c.cost);
      if (cost) merged.cost = cost;
      clients.set(key, merged);
    }
  }
  const times = (pick: (r: UsageReport) => string) => reports.map(pick).sort();
  return {
    from: times((r) => r.from)[0] ?? new Date().toISOString(),
    to: times((r) => r.to).at(-1) ?? new Date().toISOString(),
    clients: [...clients.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version)),
  };
}

/**
 * The clients that used what a change at `changePath` touches: `Type.field` (and its arguments,
 * `Type.field.arg`) or a whole `Type`. Each as "name version (N operations)".
 */
export function clientsUsing(report: UsageReport, changePath: string): string[] {
  const [type, field] = changePath.split('.');
  const users: string[] = [];
  for (const client of report.clients) {
    const used = Object.entries(client.fields)
      .filter(([coordinate]) => {
        const [t, f] = coordinate.split('.');
        return t === type && (field === undefined || f === field);
      })
      .reduce((most, [, n]) => Math.max(most, n), 0); // a type's fields are often selected together
    if (used > 0) users.push(`${client.name} ${client.version} (${used} operation${used === 1 ? '' : 's'})`);
  }
  return users;
}
