/**
 * The lab's typed error family. Every error the lab raises on purpose says what it means to whoever caused it:
 * `bad-input` (their task file, change, flag or file is wrong: the CLI exits 2 with the message) or `failure` (an
 * expected failure they should hear about, e.g. a server that does not answer: exit 1). Anything else that is
 * thrown is a bug or an infrastructure fault. The floors below this one (src/gpt, src/stats, src/sandbox) depend
 * on nothing, so their few error classes stand alone and the CLI names them (src/cli/common.ts).
 */
export type ErrorKind = 'bad-input' | 'failure';

export abstract class SuccessorError extends Error {
  abstract readonly kind: ErrorKind;
}

/** The input is wrong (exit 2): the message names the problem so the user can fix it. */
export class BadInputError extends SuccessorError {
  override name = 'BadInputError';
  readonly kind = 'bad-input' as const;
}

/** An expected failure the user should know about (exit 1), as opposed to a bug. */
export class FailureError extends SuccessorError {
  override name = 'FailureError';
  readonly kind = 'failure' as const;
}

/** A task folder or task file that does not load. */
export class TaskError extends BadInputError {
  override name = 'TaskError';
}

/** A change that cannot be applied: the researcher gets this message back as something it can act on. */
export class ChangeError extends BadInputError {
  override name = 'ChangeError';
}

/** Formats a zod error as a single line: `path: message; path: message`. */
export function describeZodError(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
