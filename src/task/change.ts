/**
 * A change: what a researcher proposes against a parent experiment. Either knob settings from the task's space,
 * edits of workspace files (exact search/replace blocks or whole-file writes), or both.
 */
import { z } from 'zod';

export const FileEdit = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('replace'), path: z.string().min(1), search: z.string().min(1), replace: z.string() }).strict(),
  z.object({ kind: z.literal('write'), path: z.string().min(1), content: z.string() }).strict(),
  z.object({ kind: z.literal('delete'), path: z.string().min(1) }).strict(),
]);
export type FileEdit = z.infer<typeof FileEdit>;

export const Change = z
  .object({
    knobs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    edits: z.array(FileEdit).default([]),
  })
  .strict();
export type Change = z.infer<typeof Change>;

export const emptyChange = (): Change => ({ knobs: {}, edits: [] });
export const isEmptyChange = (change: Change): boolean => Object.keys(change.knobs).length === 0 && change.edits.length === 0;
