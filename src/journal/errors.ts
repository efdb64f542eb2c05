/** The journal's typed errors. All are bugs or infrastructure faults; expected failures never reach the journal as errors. */

/** A call the journal cannot honour: unknown id, invalid row, a write on a read-only connection. A bug in the caller. */
export class JournalError extends Error {
  override name = 'JournalError';
}

/** A stored row that does not parse: the file was damaged or edited by hand. `verifyAudit` says which entry. */
export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}
