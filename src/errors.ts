// Errors that reach the user, each with its exit code. Only cli/main.ts turns them into exits.

/** Bad input: a flag, value or file the user gave. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Something failed while running. Exit 1. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly exitCode = 1;
}
