// The runtime's modules import each other without cycles: a cycle between two modules makes their
// load order decide which one sees the other half-initialised, and it is the first sign that two
// concerns have grown into each other (the gateway's server and its subscriptions once did).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';

const RUNTIME = ['lib', 'gateway', 'subgraphs'];

/** Every TypeScript file under the runtime folders, relative to the root (generated code left out). */
function sources(): string[] {
  return RUNTIME.flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.split(path.sep).includes('generated'))
      .map((f) => path.posix.join(dir, f.split(path.sep).join('/'))),
  );
}

/** The project files a module imports (type-only imports too: they tie the two modules just the same). */
function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specifiers
    .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts'))
    .filter((target) => known.has(target));
}

/** The strongly connected components of more than one module (or a module importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexes = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indexes.set(node, index);
    lowlinks.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexes.has(next)) {
        visit(next);
        lowlinks.set(node, Math.min(lowlinks.get(node)!, lowlinks.get(next)!));
      } else if (onStack.has(next)) lowlinks.set(node, Math.min(lowlinks.get(node)!, indexes.get(next)!));
    }
    if (lowlinks.get(node) !== indexes.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)!.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!indexes.has(node)) visit(node);
  return found;
}

describe('the runtime modules (lib/, gateway/, subgraphs/)', () => {
  it('import each other without a cycle', () => {
    const files = sources();
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, importsOf(f, known)]));
    // The scan sees the imports: the gateway's entry reaches its server, the server its features.
    expect(graph.get('gateway/index.ts')).toContain('gateway/server.ts');
    expect(graph.get('gateway/server.ts')).toContain('gateway/feature.ts');
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle where there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
