// Turns composition errors into lines that say where the problem is: subgraph, type and field.
import type { GraphQLError } from 'graphql';
import { Kind, type ASTNode, type DocumentNode } from 'graphql';
import type { SubgraphSource } from '../composition.js';

export interface CompositionProblem {
  code: string;
  message: string;
  subgraph?: string;
  type?: string;
  field?: string;
}

/** The type (and field) definition of `document` that encloses `offset`. */
function enclosing(document: DocumentNode, offset: number): { type?: string; field?: string } {
  for (const definition of document.definitions) {
    if (!definition.loc || offset < definition.loc.start || offset > definition.loc.end || !('name' in definition) || !definition.name) continue;
    const fields = 'fields' in definition ? (definition.fields ?? []) : [];
    const field = fields.find((f) => f.loc && offset >= f.loc.start && offset <= f.loc.end);
    return { type: definition.name.value, field: field?.name.value };
  }
  return {};
}

export function describeCompositionErrors(errors: readonly GraphQLError[], subgraphs: SubgraphSource[]): CompositionProblem[] {
  return errors.map((error) => {
    const code = String(error.extensions?.code ?? 'COMPOSITION_ERROR');
    // Errors carry the definitions of every subgraph involved; when the message blames one
    // subgraph ("... in subgraph "reviews""), point at that one.
    const blamed = /in subgraph "(\w+)"/.exec(error.message)?.[1];
    const nodes = (error.nodes ?? []).filter((n: ASTNode) => subgraphs.some((s) => s.name === n.loc?.source.name));
    const node = nodes.find((n) => n.loc!.source.name === blamed) ?? nodes[0];
    if (node?.loc) {
      const subgraph = subgraphs.find((s) => s.name === node.loc!.source.name)!;
      const where = enclosing(subgraph.document, node.loc.start);
      if (node.kind === Kind.FIELD_DEFINITION && !where.field) where.field = node.name.value;
      return { code, message: error.message, subgraph: subgraph.name, ...where };
    }
    // Some errors carry no node; they still name the subgraph in brackets.
    const named = /\[(\w+)\]/.exec(error.message)?.[1];
    return { code, message: error.message, subgraph: subgraphs.some((s) => s.name === named) ? named : undefined };
  });
}

export function formatProblem(p: CompositionProblem): string {
  const where = [p.subgraph && `subgraph ${p.subgraph}`, p.type && `type ${p.type}`, p.field && `field ${p.field}`].filter(Boolean).join(', ');
  return `${where ? `${where}: ` : ''}${p.message} [${p.code}]`;
}
