const ABLATE_ERROR_BRAND = Symbol.for('ablate.AblateError');

/**
 * Base of ablate's typed errors. Every error a user can cause carries a stable `code`, the `field` it concerns
 * (a JSON path such as `/perturbation/retain`, or an argument name) and a `hint` saying how to fix it.
 *
 * Codes: `ABLATE_CONFIG` (ConfigError: a config field; `issues` lists them all), `ABLATE_ARGUMENT`
 * (ArgumentError: a function argument out of its domain), `ABLATE_INPUT` (InputError: an unusable image),
 * `ABLATE_MODEL` (ModelError: a model that does not fit the pipeline), `ABLATE_BACKEND` (a backend or execution
 * provider that cannot run), `ABORTED` (AbortError: the call's `signal` was aborted; name `AbortError`, as the
 * platform's own aborts), `ABLATE_DISPOSED` (DisposedError: the runtime was disposed before or during the call) and
 * `PLUGIN_ERROR` (PluginError: a plug-in's own code failed). All codes: docs/errors.md.
 * @category App authors
 */
export class AblateError extends Error {
  /**
   * `instanceof` that also recognizes errors thrown by another copy of @ablate/core in the same process (its
   * CommonJS build next to the ESM one, or a second installed copy): they carry the same `Symbol.for` brand, and
   * the class is matched by name along the prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (value === null || typeof value !== 'object' || (value as Record<symbol, unknown>)[ABLATE_ERROR_BRAND] !== true) return false;
    for (let p = Object.getPrototypeOf(value); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
      if (Object.hasOwn(p, 'constructor') && (p as { constructor: { name?: string } }).constructor.name === this.name) return true;
    }
    return false;
  }

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

Object.defineProperty(AblateError.prototype, ABLATE_ERROR_BRAND, { value: true });

/** One problem found while validating a config. @category App authors */
export interface ConfigIssue {
  /** JSON pointer of the offending field, e.g. `/certifier/alpha`. */
  path: string;
  /** What is wrong with it. */
  message: string;
  /** What is allowed there, when it can be listed. */
  allowed?: readonly unknown[];
}

/** A config (JSON or object) failed validation. `issues` lists every wrong field. @category App authors */
export class ConfigError extends AblateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path || '/'}: ${i.message}`);
    super('ABLATE_CONFIG', `invalid config:\n${lines.join('\n')}`, { field: issues[0]?.path });
    this.issues = issues;
  }
}

/** A function argument is out of its domain (k > d, α ∉ (0,1), n0 < 1, …). @category App authors */
export class ArgumentError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_ARGUMENT', `${field}: ${message}`, { field, hint });
  }
}

/** An input image is unusable (wrong length, NaN or infinite values). @category App authors */
export class InputError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_INPUT', `${field}: ${message}`, { field, hint });
  }
}

/** A model does not fit the pipeline (wrong input shape, too few outputs, …). @category App authors */
export class ModelError extends AblateError {
  constructor(field: string, message: string, hint?: string) {
    super('ABLATE_MODEL', `${field}: ${message}`, { field, hint });
  }
}

/**
 * A plug-in's own code failed with an error that is not an AblateError (its `create`, or a perturbation's
 * `sample`). The message names the slot, the plug-in's `type` and its config path (e.g. `/perturbation`);
 * `cause` is the original error. Code `PLUGIN_ERROR`.
 * @category App authors
 */
export class PluginError extends AblateError {
  /** The slot the plug-in fills, e.g. `perturbation`. */
  readonly kind: string;
  /** The plug-in's `type`, e.g. `block-ablation`. */
  readonly pluginType: string;
  constructor(kind: string, pluginType: string, stage: string, cause: unknown) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super('PLUGIN_ERROR', `/${kind}: the ${kind} plug-in "${pluginType}" failed in ${stage}: ${what.slice(0, 500)}`, {
      field: `/${kind}`,
      hint: `a failure inside the plug-in's own code (see error.cause); check its options at /${kind} or report it to the plug-in's author`,
      cause,
    });
    this.kind = kind;
    this.pluginType = pluginType;
  }
}

/**
 * A run was cancelled through its `signal` (an `AbortSignal` passed to certify, predict, votes, certifyAndPredict,
 * an attack or a dataset run). Code `ABORTED`; `name` is `AbortError`, like the platform's own aborts, so code that
 * checks `error.name === 'AbortError'` (fetch, streams) handles it too. `cause` is the signal's `reason`. The
 * runtime stays usable: a later call gives what it would have given without the aborted one.
 * @category App authors
 */
export class AbortError extends AblateError {
  constructor(reason?: unknown) {
    super('ABORTED', `the run was aborted${reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : ''}`, { field: 'signal', cause: reason });
  }
}

/** Throws an AbortError (its `cause` the signal's reason) when `signal` is aborted. @category App authors */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/**
 * Whether `signal` can be used as an AbortSignal: an object with a boolean `aborted` and `addEventListener` (calls
 * waiting for a lane, and dataset runs with images in flight, listen for the abort rather than poll).
 * @category App authors
 */
export function isAbortSignal(signal: unknown): signal is AbortSignal {
  const s = signal as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function';
}

/**
 * The runtime (or its smoothed classifier) was disposed before or during the call. Code `ABLATE_DISPOSED`. A run
 * in progress when `dispose()` is called stops after its current batch and rejects with this error; `dispose()`
 * releases the model only after that batch has finished.
 * @category App authors
 */
export class DisposedError extends AblateError {
  constructor(what = 'the runtime') {
    super('ABLATE_DISPOSED', `${what} was disposed`, { hint: 'create a new runtime with createContainer (dispose() ends a runtime for good)' });
  }
}
