// Classifies what changed between two API schemas (GraphQL Inspector's rules): breaking changes
// fail the check unless acknowledged in schema-changes.acknowledged.yaml; dangerous and safe
// changes are reported only.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { parse } from 'yaml';

export const ACKNOWLEDGEMENTS_FILE = 'schema-changes.acknowledged.yaml';

export interface Acknowledgement {
  /** The path the report prints for the change, e.g. `Product.sku`. */
  change: string;
  /** Why it is acceptable: read in review like the code that made it. */
  reason: string;
}

export interface ClassifiedChanges {
  breaking: Change[];
  acknowledged: Change[];
  dangerous: Change[];
  safe: Change[];
}

export function readAcknowledgements(root: string): Acknowledgement[] {
  const file = path.join(root, ACKNOWLEDGEMENTS_FILE);
  if (!existsSync(file)) return [];
  const parsed = (parse(readFileSync(file, 'utf8')) ?? {}) as { acknowledged?: unknown };
  const list = parsed.acknowledged ?? [];
  if (!Array.isArray(list)) throw new Error(`${ACKNOWLEDGEMENTS_FILE}: "acknowledged" must be a list`);
  return list.map((entry, i) => {
    const e = entry as Partial<Acknowledgement>;
    if (typeof e.change !== 'string' || typeof e.reason !== 'string' || !e.reason.trim()) {
      throw new Error(`${ACKNOWLEDGEMENTS_FILE}: entry ${i + 1} needs a "change" and a non-empty "reason"`);
    }
    return { change: e.change, reason: e.reason };
  });
}

export const changePath = (c: Change) => c.path ?? c.type;

export async function classifyChanges(before: GraphQLSchema, after: GraphQLSchema, acknowledgements: Acknowledgement[]): Promise<ClassifiedChanges> {
  const result: ClassifiedChanges = { breaking: [], acknowledged: [], dangerous: [], safe: [] };
  const acknowledged = new Set(acknowledgements.map((a) => a.change));
  for (const change of await diff(before, after)) {
    if (change.criticality.level === CriticalityLevel.Breaking) {
      (acknowledged.has(changePath(change)) ? result.acknowledged : result.breaking).push(change);
    } else if (change.criticality.level === CriticalityLevel.Dangerous) result.dangerous.push(change);
    else result.safe.push(change);
  }
  return result;
}
