import { AblateError, ArgumentError, ConfigError, InputError, ModelError } from '@ablate/core';

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
    // DatasetError (@ablate/datasets, loaded lazily), backend and version errors: by code
    (error instanceof AblateError && ['ABLATE_DATASET', 'ABLATE_MODEL', 'ABLATE_BACKEND', 'ABLATE_VERSION', 'ABLATE_PLUGIN'].includes(error.code))
  );
}
