// `npm run schema:compose`: rewrites supergraph.graphql from the subgraph schemas in supergraph.yaml.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { compose, readSubgraphs } from '../tools/composition.js';
import { ROOT, SUPERGRAPH_FILE } from '../lib/paths.js';
import { describeCompositionErrors, formatProblem } from '../tools/schema-check/composition-report.js';

const subgraphs = readSubgraphs(ROOT);
const result = compose(subgraphs);
if (result.errors) {
  for (const problem of describeCompositionErrors(result.errors, subgraphs)) console.error(formatProblem(problem));
  process.exit(1);
}
writeFileSync(path.join(ROOT, SUPERGRAPH_FILE), result.supergraphSdl);
console.log(`wrote ${SUPERGRAPH_FILE} from ${subgraphs.map((s) => s.name).join(', ')}`);
