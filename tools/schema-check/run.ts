// `npm run schema:check`: composition, a stale supergraph.graphql, breaking changes against a
// base revision, and every client operation. One summary line per check; false when any fails.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compose, readSubgraphs } from '../composition.js';
import { SUPERGRAPH_FILE } from '../../lib/paths.js';
import { accessChanges } from './access-changes.js';
import { apiSchemaOf } from './api-schema.js';
import { defaultBaseRevision, readBaseSupergraph } from './base-revision.js';
import { ACKNOWLEDGEMENTS_FILE, changePath, classifyChanges, readAcknowledgements } from './changes.js';
import { describeCompositionErrors, formatProblem } from './composition-report.js';
import { validateOperations } from './operations.js';
import { checkManifest } from './persisted-manifest-check.js';
import { clientsUsing, type UsageReport } from './usage.js';

export interface SchemaCheckOptions {
  root: string;
  /** Git revision whose supergraph.graphql is the baseline; default: see base-revision.ts. */
  base?: string | undefined;
  print?: (line: string) => void;
  /** Usage by client (`--usage FILE`): breaking changes name the clients that used what they break. */
  usage?: UsageReport | undefined;
}

export async function runSchemaCheck({ root, base, print = console.log, usage }: SchemaCheckOptions): Promise<boolean> {
  let ok = true;
  const report = (passed: boolean, check: string, summary: string, details: string[] = []) => {
    ok &&= passed;
    print(`${passed ? '✔' : '✘'} ${check.padEnd(11)} ${summary}`);
    for (const line of details) print(`    ${line}`);
  };

  const subgraphs = readSubgraphs(root);
  const result = compose(subgraphs);
  if (result.errors) {
    const problems = describeCompositionErrors(result.errors, subgraphs);
    report(false, 'composition', `${problems.length} error${problems.length === 1 ? '' : 's'}: fix the subgraph schemas`, problems.map(formatProblem));
    print('  (supergraph, changes and operations are not checked until the subgraphs compose)');
    return false;
  }
  report(true, 'composition', `${subgraphs.length} subgraphs composed (${subgraphs.map((s) => s.name).join(', ')})`);

  const committed = readFileSync(path.join(root, SUPERGRAPH_FILE), 'utf8');
  if (committed === result.supergraphSdl) report(true, 'supergraph', `${SUPERGRAPH_FILE} matches the composition`);
  else {
    const ours = committed.split('\n');
    const theirs = result.supergraphSdl.split('\n');
    const line = ours.findIndex((l, i) => l !== theirs[i]);
    report(false, 'supergraph', `${SUPERGRAPH_FILE} is stale: run \`npm run schema:compose\` and commit it`, [
      `first difference at line ${(line === -1 ? ours.length : line) + 1}: committed ${JSON.stringify(ours[line] ?? '')}, composed ${JSON.stringify(theirs[line === -1 ? ours.length : line] ?? '')}`,
    ]);
  }

  const api = apiSchemaOf(result.supergraphSdl);
  const baseline = readBaseSupergraph(root, base ?? defaultBaseRevision(root));
  if (baseline.sdl === null) report(true, 'changes', `not compared: ${baseline.reason}`);
  else {
    const baseApi = apiSchemaOf(baseline.sdl);
    const acknowledgements = readAcknowledgements(root);
    const changes = await classifyChanges(baseApi, api, acknowledgements);
    const acks = new Map(acknowledgements.map((a) => [a.change, a.reason]));
    const usedBy = (path: string) => {
      if (!usage) return '';
      const clients = clientsUsing(usage, path);
      return clients.length ? ` (used from ${usage.from} to ${usage.to} by ${clients.join(', ')})` : ` (no client used it from ${usage.from} to ${usage.to})`;
    };
    // Access rules (docs/api.md, "Who may do what"): loosened is breaking, tightened takes data from the clients that read it.
    const access = accessChanges({ sdl: baseline.sdl, api: baseApi }, { sdl: result.supergraphSdl, api });
    const loosened = access.filter((c) => c.loosened);
    const accessBreaking = loosened.filter((c) => !acks.has(c.path));
    const accessAcknowledged = loosened.filter((c) => acks.has(c.path));
    const tightened = access.filter((c) => c.tightened);
    const accessMessage = (c: (typeof access)[number]) => `access ${c.loosened ? 'loosened' : 'tightened'} from ${c.before} to ${c.after}`;
    const breaking = [
      ...changes.breaking.map((c) => `BREAKING      ${changePath(c)}: ${c.message}${usedBy(changePath(c))}`),
      ...accessBreaking.map((c) => `BREAKING      ${c.path}: ${accessMessage(c)}: callers may now read what they could not`),
    ];
    const details = [
      ...breaking,
      ...changes.acknowledged.map((c) => `acknowledged  ${changePath(c)}: ${c.message} (reason: ${acks.get(changePath(c))})`),
      ...accessAcknowledged.map((c) => `acknowledged  ${c.path}: ${accessMessage(c)} (reason: ${acks.get(c.path)})`),
      ...tightened.map((c) => `tightened     ${c.path}: access tightened from ${c.before} to ${c.after}: callers who read it get null and UNAUTHORIZED_FIELD_OR_TYPE${usage ? usedBy(c.field) : ' (give --usage FILE to name the clients)'}`),
      ...changes.dangerous.map((c) => `dangerous     ${changePath(c)}: ${c.message}`),
      ...changes.safe.map((c) => `safe          ${changePath(c)}: ${c.message}`),
    ];
    if (breaking.length > 0) {
      details.push(
        `A breaking change can break clients already in use, and a loosened access rule exposes data. Restore it, or, if it is meant, acknowledge it in ${ACKNOWLEDGEMENTS_FILE}:`,
        `  acknowledged:`,
        ...[...changes.breaking.map(changePath), ...accessBreaking.map((c) => c.path)].map((p) => `    - change: ${p}\n          reason: <why this is safe for every client>`),
      );
    }
    const accessCounts = access.length > 0 ? `, ${loosened.length} access loosened, ${tightened.length} access tightened` : '';
    const counts = `${breaking.length} breaking, ${changes.acknowledged.length + accessAcknowledged.length} acknowledged, ${changes.dangerous.length} dangerous, ${changes.safe.length} safe${accessCounts}`;
    report(breaking.length === 0, 'changes', `against ${baseline.revision}: ${counts}`, details);
  }

  const operations = validateOperations(root, api);
  const invalid = new Set(operations.problems.map((p) => p.file)).size;
  report(
    operations.problems.length === 0,
    'operations',
    invalid === 0
      ? `${operations.checked} operations of ${operations.clients.join(', ')} are valid`
      : `${invalid} of ${operations.checked} operations invalid: a client would break`,
    operations.problems.map((p) => `${p.client}: ${p.operation} (${p.file})${p.field ? `, field ${p.field}` : ''}: ${p.message}`),
  );

  const manifest = checkManifest(root);
  report(manifest.ok, 'manifest', manifest.summary, manifest.details);
  return ok;
}
