/**
 * Rows as tab- or comma-separated text, for spreadsheets and scripts (`runs --format tsv|csv`, `show RUN --format
 * tsv`), one header line then one line per row, like autoresearch's results.tsv. Values are exact (no rounding for
 * people); null is an empty cell. TSV cannot quote, so a tab or newline inside a value becomes a space; CSV quotes
 * as RFC 4180 says.
 * Is not: what the columns are (each command picks its own).
 */
import { UsageError } from './common.js';

export type TableFormat = 'text' | 'tsv' | 'csv';
export type Cell = string | number | boolean | null | undefined;

export function parseTableFormat(text: string, allowed: readonly TableFormat[] = ['text', 'tsv', 'csv']): TableFormat {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`--format must be ${allowed.join(', ')}, got '${text}'`);
  return text as TableFormat;
}

const plain = (cell: Cell): string => (cell === null || cell === undefined ? '' : String(cell));

function csvCell(cell: Cell): string {
  const text = plain(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatTable(format: 'tsv' | 'csv', columns: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const line = format === 'tsv'
    ? (cells: readonly Cell[]) => cells.map((cell) => plain(cell).replace(/[\t\r\n]+/g, ' ')).join('\t')
    : (cells: readonly Cell[]) => cells.map(csvCell).join(',');
  return [columns, ...rows].map(line).join('\n') + '\n';
}
