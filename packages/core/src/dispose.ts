/**
 * The key of `await using` disposal: `Symbol.asyncDispose` where the runtime has it (Node ≥ 20), else
 * `Symbol.for('Symbol.asyncDispose')`, the key that transpiled `await using` (esbuild, and TypeScript's
 * helpers with a polyfill) looks up. No global is patched.
 * @category App authors
 */
export const asyncDispose: typeof Symbol.asyncDispose = (Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')) as typeof Symbol.asyncDispose;
