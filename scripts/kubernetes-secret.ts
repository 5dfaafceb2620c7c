// `npm run -s k8s:secret -- <env file> | kubectl apply -f -`: the Secret the Kubernetes manifests
// (deploy/kubernetes) read, from an env file holding `npm run keys` output and the four database
// URLs. Every value is checked first with the services' own configuration code, as production
// checks it: a missing, malformed or published key, or a database URL that is not PostgreSQL, is
// refused with the variable named, before the cluster sees it. kubectl's own --from-env-file would
// keep the quotes around the keys' JSON, which is why this exists.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { loadSubgraphConfig } from '../lib/config.js';
import { ISSUERS } from '../lib/security/keys.js';
import { databaseUrlVar, SERVICE_NAMES } from '../lib/services.js';

/** The Secret's name in deploy/kubernetes. */
export const SECRET_NAME = 'commerce-secrets';

/** What the Secret holds: every token key variable and every subgraph's database URL. */
export const SECRET_VARIABLES: readonly string[] = [
  ...Object.values(ISSUERS).flatMap((issuer) => [issuer.privateVar, issuer.publicVar]),
  ...SERVICE_NAMES.map(databaseUrlVar),
];

/** The Secret for these variables; throws naming every variable that is missing or invalid. */
export function kubernetesSecret(vars: Record<string, string | undefined>, namespace: string) {
  const problems = SECRET_VARIABLES.filter((v) => !vars[v]).map((v) => `  ${v}: missing`);
  if (problems.length === 0) {
    // Each subgraph reads the keys it holds and its database URL, as it will in the cluster.
    for (const name of SERVICE_NAMES) {
      try {
        loadSubgraphConfig(name, { ...pick(vars), NODE_ENV: 'production' });
      } catch (err) {
        problems.push(...(err as Error).message.split('\n').slice(1));
      }
    }
  }
  if (problems.length > 0) throw new Error(`cannot make the Secret:\n${[...new Set(problems)].join('\n')}`);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET_NAME, namespace },
    type: 'Opaque',
    stringData: pick(vars),
  };
}

const pick = (vars: Record<string, string | undefined>) => Object.fromEntries(SECRET_VARIABLES.map((v) => [v, vars[v]!]));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, namespace = 'commerce'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npm run -s k8s:secret -- <env file> [namespace]   (prints the Secret; pipe it to kubectl apply -f -)');
    process.exit(2);
  }
  try {
    const vars = parseEnv(readFileSync(path.resolve(file), 'utf8'));
    process.stdout.write(stringify(kubernetesSecret(vars, namespace)));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
