// Printing results: markdown tables (a row, a header with its separator) and the dated header line
// that says on what the figures were measured, as docs/performance.md quotes them.
import { availableParallelism } from 'node:os';

export const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** Prints a table's column names and the separator line below them. */
export function printTableHead(columns: string[]): void {
  console.log(row(columns));
  console.log(row(columns.map(() => '---')));
}

/** `title (2026-11-26T10:00Z, Node v20.20.0, 2 cores)`: when and on what the figures below were measured. */
export function datedHeader(title: string): string {
  return `${title} (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${availableParallelism()} cores)`;
}
