// Validates every client operation (operations/<client>/*.graphql) against the API schema and
// names the client, the operation and the field of each problem.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, Source, TypeInfo, validate, visit, visitWithTypeInfo, type ASTNode, type GraphQLSchema } from 'graphql';

export interface OperationProblem {
  client: string;
  file: string;
  operation: string;
  /** `Type.field` where the problem is a field, when it can be told. */
  field?: string;
  message: string;
}

export interface OperationReport {
  checked: number;
  clients: string[];
  problems: OperationProblem[];
}

export function validateOperations(root: string, schema: GraphQLSchema): OperationReport {
  const dir = path.join(root, 'operations');
  const clients = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const problems: OperationProblem[] = [];
  let checked = 0;
  for (const client of clients) {
    for (const file of readdirSync(path.join(dir, client)).filter((f) => f.endsWith('.graphql')).sort()) {
      checked++;
      const relative = `operations/${client}/${file}`;
      const text = readFileSync(path.join(dir, client, file), 'utf8');
      let document;
      try {
        document = parse(new Source(text, relative));
      } catch (err) {
        problems.push({ client, file: relative, operation: file.replace(/\.graphql$/, ''), message: (err as Error).message });
        continue;
      }
      const names = document.definitions.flatMap((d) => (d.kind === 'OperationDefinition' && d.name ? [d.name.value] : []));
      const operation = names.join(', ') || file.replace(/\.graphql$/, '');
      // Where each field sits in the schema, to name `Type.field` in the report.
      const parents = new Map<ASTNode, string>();
      const typeInfo = new TypeInfo(schema);
      visit(document, visitWithTypeInfo(typeInfo, { Field: (node) => void parents.set(node, String(typeInfo.getParentType() ?? '?')) }));
      for (const error of validate(schema, document)) {
        const node = error.nodes?.find((n) => n.kind === 'Field');
        const field = node && node.kind === 'Field' ? `${parents.get(node) ?? '?'}.${node.name.value}` : undefined;
        const line = error.locations?.[0]?.line;
        problems.push({ client, file: relative, operation, field, message: `${error.message}${line ? ` (line ${line})` : ''}` });
      }
    }
  }
  return { checked, clients, problems };
}
