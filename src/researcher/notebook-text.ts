/** The research notebook as text for a model or a person: one entry a line, with who wrote it, when and about what. */
import type { NotebookEntry } from './types.js';

export function formatNotebook(entries: readonly NotebookEntry[]): string {
  if (entries.length === 0) return '(empty: nothing written down yet)';
  return entries.map((entry) => `- [${entry.at.slice(0, 16).replace('T', ' ')} ${entry.author}${entry.experimentId ? ` on ${entry.experimentId}` : ''}] ${entry.text.replace(/\s+/g, ' ')}`).join('\n');
}
