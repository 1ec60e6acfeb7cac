import { AblateError, ArgumentError, ConfigError, InputError, ModelError } from '@ablate/core';
import { DatasetError } from '@ablate/datasets';

/** Bad command-line usage (exit code 2). */
export class UsageError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_USAGE', `${field}: ${message}`, { field, hint });
  }
}

/** Exit codes of the `ablate` command: 0 success, 2 bad usage or config, 1 runtime failure. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

/** Errors the user caused (wrong flag, config, path, model): exit 2 with the message only, no stack. */
export function isUserError(error: unknown): error is AblateError {
  return (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof ArgumentError ||
    error instanceof InputError ||
    error instanceof ModelError ||
    error instanceof DatasetError ||
    (error instanceof AblateError && (error.code === 'ABLATE_MODEL' || error.code === 'ABLATE_BACKEND'))
  );
}
