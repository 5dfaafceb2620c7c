// `npm run -s k8s:supergraph | kubectl apply -f -`: the ConfigMap the gateway pods serve their
// supergraph from (deploy/kubernetes/gateway.yaml mounts it as a directory), made from the composed
// supergraph.graphql. A gateway picks a changed ConfigMap up without a restart (docs/production.md,
// "Reloading the supergraph"); a file that is not a valid supergraph is refused here, before the
// cluster sees it, as every gateway would refuse it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { stringify } from 'yaml';
import { GATEWAY_SUPERGRAPH_FEATURES } from '../gateway/authorization/supergraph-features.js';
import { SUPERGRAPH_PATH } from '../lib/paths.js';

/** The ConfigMap's name in deploy/kubernetes, and the one key it holds (the file name in the mount). */
export const SUPERGRAPH_CONFIGMAP = 'commerce-supergraph';
export const SUPERGRAPH_KEY = 'supergraph.graphql';

/** The ConfigMap for this supergraph; throws saying what is wrong with it. */
export function supergraphConfigMap(sdl: string, namespace: string) {
  try {
    Supergraph.build(sdl, { validateSupergraph: true, supportedFeatures: new Set(GATEWAY_SUPERGRAPH_FEATURES) });
  } catch (err) {
    throw new Error(`not a valid supergraph: ${(err as Error).message}`);
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: SUPERGRAPH_CONFIGMAP, namespace },
    data: { [SUPERGRAPH_KEY]: sdl },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file = SUPERGRAPH_PATH, namespace = 'commerce'] = process.argv.slice(2);
  try {
    process.stdout.write(stringify(supergraphConfigMap(readFileSync(path.resolve(file), 'utf8'), namespace)));
  } catch (err) {
    console.error(`${file}: ${(err as Error).message}`);
    process.exit(1);
  }
}
