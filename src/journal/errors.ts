/**
 * The journal's typed errors, in the lab's family (src/task/errors.ts). A call the journal cannot honour is a bug
 * in the caller (`JournalError`); a file that is not a journal this lab can read is the user's input, named in one
 * line (`JournalUnreadableError` and its kinds: the CLI exits 2 for every command alike). Expected failures of
 * experiments never reach the journal as errors.
 */
import { BadInputError } from '../task/errors.js';

/** A call the journal cannot honour: unknown id, invalid row, a write on a read-only connection. A bug in the caller. */
export class JournalError extends Error {
  override name = 'JournalError';
}

/** A file at the journal's path that this lab cannot use as its journal. The message names the file and why. */
export class JournalUnreadableError extends BadInputError {
  override name = 'JournalUnreadableError';
}

/**
 * A damaged journal: not an SQLite file at all, a malformed database image, or a stored row that does not parse
 * (edited by hand). `verifyAudit` says which entry when the file still opens.
 */
export class JournalCorruptError extends JournalUnreadableError {
  override name = 'JournalCorruptError';
}

/** An SQLite database that belongs to something else: the lab never adds its tables to it. */
export class JournalForeignError extends JournalUnreadableError {
  override name = 'JournalForeignError';
}

/** A journal of a newer lab, or (for a read-only command) an older one that only a writing command may migrate. */
export class JournalVersionError extends JournalUnreadableError {
  override name = 'JournalVersionError';
}

/** SQLite's own codes for a file that is not a database or whose pages are damaged (better-sqlite3's `code`). */
export function isCorruptionCode(code: unknown): boolean {
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** A key file given to verify with that is not an Ed25519 public key (or not a key at all). */
export class AuditKeyError extends BadInputError {
  override name = 'AuditKeyError';
}
