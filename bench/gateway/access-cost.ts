// What evaluating the access rules and the cost budget adds to one request of this gateway: the
// same code the gateway runs before planning (the rewrite of gateway/authorization/operation.ts,
// the estimate and one budget spend in memory, as gateway/features/cost-budget.ts does), timed in
// process on each workload, beside the gateway CPU per request the load measured. The gateway has
// no switch to turn them off, so "without" is the measured CPU less this. The cost estimate alone
// is timed too: the gateway makes it once per request (lib/security/request-figures.ts), where the
// limits, the cost metrics and the budget each made their own before.
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { grantsOf } from '../../gateway/authorization/grants.js';
import { authorizeOperation } from '../../gateway/authorization/operation.js';
import { POLICIES } from '../../gateway/authorization/policies.js';
import { accessRules } from '../../gateway/authorization/rules.js';
import { costModelFromSupergraph, estimateOperation, useCostModel } from '../../lib/security/operation-cost.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';
import { printTableHead, row } from '../runner/table.js';
import type { Workload } from './workload.js';

const ITERATIONS = 2_000;

/** CPU microseconds per call of `work`, over ITERATIONS calls after as many to warm up. */
async function cpuMicros(work: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < ITERATIONS; i++) await work();
  const before = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) await work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / ITERATIONS;
}

/** Prints, per workload, the CPU of the access rules and of the budget, and their share of the gateway's CPU per request. */
export async function printAccessCost(supergraphSdl: string, loads: Workload[], gatewayCpuMsPerRequest: Map<string, number>): Promise<void> {
  const api = apiSchemaOf(supergraphSdl);
  useCostModel(api, costModelFromSupergraph(supergraphSdl));
  const rules = accessRules(supergraphSdl);
  const budget = new RateLimiterMemory({ points: Number.MAX_SAFE_INTEGER, duration: 60 });
  console.log('\nAccess rules and cost budget, CPU per request (in process, the code the gateway runs before planning)\n');
  printTableHead(['workload', 'access rules (µs)', 'cost budget (µs)', 'of which the cost estimate (µs)', 'gateway CPU per request (ms)', 'share', 'gateway CPU without (ms)']);
  for (const w of loads) {
    const document = parse(w.query);
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    const [first] = w.variants;
    const viewer = first?.token ? ({ id: 'bench', role: 'CUSTOMER' } as const) : null;
    const access = await cpuMicros(() => authorizeOperation(api, document, operation, rules, (root) => grantsOf(viewer, POLICIES, root)));
    const estimate = await cpuMicros(() => estimateOperation(api, document, operation, first?.variables ?? {}));
    const spend = await cpuMicros(() => budget.consume('bench', estimateOperation(api, document, operation, first?.variables ?? {}).cost));
    const gateway = gatewayCpuMsPerRequest.get(w.name) ?? NaN;
    const added = (access + spend) / 1000;
    console.log(row([w.name, access.toFixed(1), spend.toFixed(1), estimate.toFixed(1), gateway.toFixed(2), `${((100 * added) / gateway).toFixed(1)} %`, (gateway - added).toFixed(2)]));
  }
}
