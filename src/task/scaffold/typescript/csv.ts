/**
 * A small CSV reader and writer for the harness scripts (RFC 4180: quoted fields, doubled quotes, CRLF), with no
 * dependencies: a task folder outside the lab's project has no node_modules.
 */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') (field += '"'), index++;
      else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') row.push(field), (field = '');
    else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[index + 1] === '\n') index++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += character;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  const [header = [], ...records] = rows.filter((record) => record.length > 1 || record[0] !== '');
  return records.map((record) => Object.fromEntries(header.map((name, column) => [name, record[column] ?? ''])));
}

export function formatCsv(records: Array<Record<string, string | number>>, columns: string[]): string {
  const quote = (value: string | number): string => (/[",\r\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));
  return [columns.join(','), ...records.map((record) => columns.map((column) => quote(record[column] ?? '')).join(','))].join('\n') + '\n';
}
