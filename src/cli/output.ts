// What twg prints: tables for people by default, JSON with --json (stdout); messages to stderr.
import type { Invocation } from './invocation.ts';

export type Column<T> = [header: string, value: (row: T) => unknown];

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function tell(line: string): void {
  process.stderr.write(`${line}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length > 0 ? value.map(cell).join(', ') : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

export function table<T>(rows: readonly T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map(([, value]) => cell(value(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map(([header]) => header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Field: value lines for one record. */
export function details(pairs: [label: string, value: unknown][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${cell(value)}`).join('\n');
}

/** Prints a list as JSON or as a table with a note when more pages exist. */
export function printList<T>(invocation: Invocation, page: { items: T[]; hasMore: boolean }, columns: Column<T>[], noun: string): void {
  if (invocation.json) return printJson(page.items);
  if (page.items.length === 0) {
    process.stdout.write(`no ${noun}\n`);
    return;
  }
  process.stdout.write(`${table(page.items, columns)}\n`);
  if (page.hasMore) tell(`more ${noun} exist: use --limit N or --all`);
}

export function printRecord(invocation: Invocation, record: unknown, pairs: [label: string, value: unknown][]): void {
  if (invocation.json) return printJson(record);
  process.stdout.write(`${details(pairs)}\n`);
}
