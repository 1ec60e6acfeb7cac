/**
 * Typed errors. Every error a user can cause carries a stable `code`, the `field` it concerns (a JSON path
 * such as `/perturbation/retain`, or an argument name) and a `hint` saying how to fix it.
 */
export class AblateError extends Error {
  /** Stable machine-readable code, e.g. `ABLATE_CONFIG`. */
  readonly code: string;
  /** The config path or argument name the error concerns, when there is one. */
  readonly field?: string;
  /** What to do about it. */
  readonly hint?: string;

  constructor(code: string, message: string, options: { field?: string; hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message} (${options.hint})` : message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.hint = options.hint;
  }
}

/** One problem found while validating a config. */
export interface ConfigIssue {
  /** JSON pointer of the offending field, e.g. `/certifier/alpha`. */
  path: string;
  /** What is wrong with it. */
  message: string;
  /** What is allowed there, when it can be listed. */
  allowed?: readonly unknown[];
}

/** A config (JSON or object) failed validation. `issues` lists every wrong field. */
export class ConfigError extends AblateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path || '/'}: ${i.message}`);
    super('ABLATE_CONFIG', `invalid config:\n${lines.join('\n')}`, { field: issues[0]?.path });
    this.issues = issues;
  }
}

/** A function argument is out of its domain (k > d, α ∉ (0,1), n0 < 1, …). */
export class ArgumentError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_ARGUMENT', `${field}: ${message}`, { field, hint });
  }
}

/** An input image is unusable (wrong length, NaN or infinite values). */
export class InputError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_INPUT', `${field}: ${message}`, { field, hint });
  }
}

/** A model does not fit the pipeline (wrong input shape, too few outputs, …). */
export class ModelError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_MODEL', `${field}: ${message}`, { field, hint });
  }
}
