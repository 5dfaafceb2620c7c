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

export function printResults(results: Measurement[], subgraphs: string[]) {
  const gateways = [...new Set(results.map((r) => r.gateway))];
  const [ours, hive, apollo] = gateways as [string, string, string];
  const summary: string[] = [];
  for (const workload of new Set(results.map((r) => r.workload))) {
    console.log(`\n${workload}`);
    printTableHead(['gateway', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'CPU ms/req gateway', ...subgraphs, 'postgres']);
    const m: Record<string, { rps: number; p99: number; cpu: number }> = {};
    for (const gateway of gateways) {
      const runs = results.filter((r) => r.gateway === gateway && r.workload === workload);
      const cpu = (key: string) => median(runs.map((r) => r.cpuPerRequest[key] ?? NaN));
      m[gateway] = { rps: median(runs.map((r) => r.requestsPerSecond)), p99: median(runs.map((r) => r.p99Ms)), cpu: cpu('gateway') };
      console.log(
        row([gateway, fixed(m[gateway]!.rps, 0), fixed(median(runs.map((r) => r.p50Ms))), fixed(m[gateway]!.p99), runs.reduce((n, r) => n + r.failures, 0), fixed(cpu('gateway'), 2), ...subgraphs.map((s) => fixed(cpu(s), 2)), fixed(cpu('postgres'), 2)]),
      );
    }
    summary.push(
      row([
        workload,
        fixed(m[ours]!.rps / m[hive]!.rps, 2),
        fixed(m[ours]!.rps / m[apollo]!.rps, 2),
        fixed(m[ours]!.cpu / m[apollo]!.cpu, 2),
        `${fixed(m[ours]!.p99)} / ${fixed(m[hive]!.p99)}`,
      ]),
    );
  }
  console.log(`\nRatios (medians): ${ours} against the others`);
  printTableHead(['operation', `req/s vs ${hive}`, `req/s vs ${apollo}`, `gateway CPU/req vs ${apollo}`, `p99 ms, ${ours} / ${hive}`]);
  for (const line of summary) console.log(line);
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
