/** Typed errors of the task layer. A TaskError is bad input (exit 2 at the CLI), never a bug. */
export class TaskError extends Error {
  override name = 'TaskError';
}

/** A change that cannot be applied: the researcher gets this message back as something it can act on. */
export class ChangeError extends Error {
  override name = 'ChangeError';
}

/** Formats a zod error as a single line: `path: message; path: message`. */
export function describeZodError(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
