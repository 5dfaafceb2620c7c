// Prints the benchmark's figures: per operation and gateway the medians over the rounds, CPU
// milliseconds per request of every process, and the ratios the targets are stated in.
import { fixed, median } from '../runner/stats.js';
import { printTableHead, row } from '../runner/table.js';
import type { Memory } from './heap.js';

export interface Measurement {
  gateway: string;
  workload: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per request: `gateway`, each subgraph by name, `postgres`. */
  cpuPerRequest: Record<string, number>;
  /** Answers that were not the expected data (or no answer at all). */
  failures: number;
}

/** Every process's CPU per request, summed: what one request costs the machine. */
const totalCpu = (cpu: (key: string) => number, subgraphs: string[]) => cpu('gateway') + subgraphs.reduce((sum, s) => sum + cpu(s), 0) + cpu('postgres');

/**
 * The table of each operation (varied forms first, as they run), then the ratios: this gateway
 * against each peer, and, with a baseline, against the same gateway and subgraphs at that commit.
 */
export function printResults(results: Measurement[], subgraphs: string[], names: { ours: string; baseline?: string }) {
  const gateways = [...new Set(results.map((r) => r.gateway))];
  const peers = gateways.filter((g) => g !== names.ours && g !== names.baseline);
  const ratios: string[] = [];
  const baselineRatios: string[] = [];
  for (const workload of new Set(results.map((r) => r.workload))) {
    console.log(`\n${workload}`);
    printTableHead(['gateway', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'CPU ms/req gateway', ...subgraphs, 'postgres', 'all processes']);
    const m: Record<string, { rps: number; p99: number; gatewayCpu: number; subgraphsCpu: number; total: number; failed: boolean }> = {};
    for (const gateway of gateways) {
      const runs = results.filter((r) => r.gateway === gateway && r.workload === workload);
      const cpu = (key: string) => median(runs.map((r) => r.cpuPerRequest[key] ?? NaN));
      m[gateway] = {
        rps: median(runs.map((r) => r.requestsPerSecond)),
        p99: median(runs.map((r) => r.p99Ms)),
        gatewayCpu: cpu('gateway'),
        subgraphsCpu: subgraphs.reduce((sum, s) => sum + cpu(s), 0),
        total: totalCpu(cpu, subgraphs),
        failed: runs.some((r) => r.failures > 0),
      };
      console.log(
        row([
          gateway,
          fixed(m[gateway]!.rps, 0),
          fixed(median(runs.map((r) => r.p50Ms))),
          fixed(m[gateway]!.p99),
          runs.reduce((n, r) => n + r.failures, 0),
          fixed(cpu('gateway'), 2),
          ...subgraphs.map((s) => fixed(cpu(s), 2)),
          fixed(cpu('postgres'), 2),
          fixed(m[gateway]!.total, 2),
        ]),
      );
    }
    const ours = m[names.ours]!;
    // A run with failed answers measured something else (fast refusals, errors): no ratio from it.
    const ratio = (a: number, b: number, other: string) => (ours.failed || m[other]!.failed ? 'failed' : fixed(a / b, 2));
    ratios.push(row([workload, ...peers.map((p) => ratio(ours.rps, m[p]!.rps, p)), ...peers.map((p) => ratio(ours.gatewayCpu, m[p]!.gatewayCpu, p))]));
    if (names.baseline) {
      const base = m[names.baseline]!;
      const b = names.baseline;
      baselineRatios.push(row([workload, ratio(ours.rps, base.rps, b), ratio(ours.gatewayCpu, base.gatewayCpu, b), ratio(ours.subgraphsCpu, base.subgraphsCpu, b), ratio(ours.total, base.total, b)]));
    }
  }
  console.log(`\nRatios (medians): ${names.ours} against the others`);
  printTableHead(['operation', ...peers.map((p) => `req/s vs ${p}`), ...peers.map((p) => `gateway CPU/req vs ${p}`)]);
  for (const line of ratios) console.log(line);
  if (names.baseline) {
    console.log(`\nAgainst the baseline (medians): ${names.ours} and its subgraphs / ${names.baseline} and its subgraphs`);
    printTableHead(['operation', 'req/s', 'gateway CPU/req', 'subgraphs CPU/req (4 together)', 'all processes CPU/req']);
    for (const line of baselineRatios) console.log(line);
  }
}

export function printMemory(served: number, afterRun: Record<string, Memory>, afterTwice: Record<string, Memory>) {
  const growth = (from: number, to: number) => {
    const percent = (to / from - 1) * 100;
    return `${percent >= 0 ? '+' : ''}${fixed(percent)} %`;
  };
  console.log(`\nMemory (MiB) after ${served} requests to this gateway, and after as many again (resident size as found; resident size and heap in use right after a full garbage collection)`);
  printTableHead(['process', 'resident', 'resident, twice as many', 'growth', 'resident after GC', 'twice as many', 'growth', 'heap after GC', 'twice as many', 'growth']);
  for (const name of Object.keys(afterRun)) {
    const [a, b] = [afterRun[name]!, afterTwice[name]!];
    console.log(row([
      name,
      fixed(a.rssMiB), fixed(b.rssMiB), growth(a.rssMiB, b.rssMiB),
      fixed(a.rssAfterGcMiB), fixed(b.rssAfterGcMiB), growth(a.rssAfterGcMiB, b.rssAfterGcMiB),
      fixed(a.heapUsedMiB), fixed(b.heapUsedMiB), growth(a.heapUsedMiB, b.heapUsedMiB),
    ]));
  }
}
