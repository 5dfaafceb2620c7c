// The usage report's format: which client used which schema field in a period. The gateway writes
// it (gateway/features/usage.ts, GET /usage); the tooling reads, merges and checks changes against
// it (tools/schema-check/usage.ts). Here, on the runtime side, because runtime code never imports tools/.
import { z } from 'zod';

const counts = z.record(z.string(), z.number().int().nonnegative());

/** What a report file must hold; tools/schema-check/usage.ts checks files against it. */
export const usageReportSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  clients: z.array(z.object({ name: z.string().min(1), version: z.string().min(1), operations: counts, fields: counts })),
});

export type UsageReport = z.infer<typeof usageReportSchema>;
export type ClientUsage = UsageReport['clients'][number];
