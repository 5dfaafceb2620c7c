// The usage report's format: which client used which schema field in a period, and what its
// operations cost (estimated before planning and actual, from the answers). The gateway writes it
// (gateway/features/usage.ts, GET /usage); the tooling reads, merges and checks changes against
// it (tools/schema-check/usage.ts). Here, on the runtime side, because runtime code never imports tools/.
import { z } from 'zod';

const counts = z.record(z.string(), z.number().int().nonnegative());

/** Operations counted, their costs summed, the largest. */
const costFigures = z.object({ count: z.number().int().nonnegative(), sum: z.number().nonnegative(), max: z.number().nonnegative() });

/** The estimated and actual cost of a client's operations; absent from reports written before the gateway recorded cost. */
const clientCost = z.object({ estimated: costFigures, actual: costFigures });

/** What a report file must hold; tools/schema-check/usage.ts checks files against it. */
export const usageReportSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  clients: z.array(z.object({ name: z.string().min(1), version: z.string().min(1), operations: counts, fields: counts, cost: clientCost.optional() })),
});

export type UsageReport = z.infer<typeof usageReportSchema>;
export type ClientUsage = UsageReport['clients'][number];
export type CostFigures = z.infer<typeof costFigures>;
export type ClientCost = z.infer<typeof clientCost>;

const addFigures = (a: CostFigures, b: CostFigures): CostFigures => ({ count: a.count + b.count, sum: a.sum + b.sum, max: Math.max(a.max, b.max) });

/** Two clients' (or two replicas') cost figures together: counts and sums added, the larger maximum. */
export function addCost(into: ClientCost | undefined, from: ClientCost | undefined): ClientCost | undefined {
  if (!into || !from) return into ?? from;
  return { estimated: addFigures(into.estimated, from.estimated), actual: addFigures(into.actual, from.actual) };
}

/** One operation's cost, as figures to add. */
export const operationCost = (estimated: number, actual: number): ClientCost => ({
  estimated: { count: 1, sum: estimated, max: estimated },
  actual: { count: 1, sum: actual, max: actual },
});
