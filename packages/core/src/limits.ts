/**
 * Documented limits of every config value that sizes work, memory or a confidence level (docs/architecture.md,
 * "Limits"). The JSON schemas and the argument checks both use these constants, so a value past a limit is
 * refused at validation, before any image is computed.
 */

/**
 * Largest sample count of any one sampling stage (`n`, `n0`, and any future count such as `maxSamples`).
 * Votes are counted in Uint32Array cells, which would wrap at 2³²; 10⁹ keeps a wide margin and is already
 * hours of inference per image on a GPU.
 * @category Math
 */
export const MAX_SAMPLES = 1_000_000_000;

/**
 * Largest `batchSize` (samples per classifier call). The engine also sizes its buffers by
 * min(batchSize, samples needed) and refuses, with an ArgumentError naming `batchSize`, a batch whose buffers
 * exceed MAX_BATCH_BYTES for the input's shape.
 * @category Math
 */
export const MAX_BATCH_SIZE = 1_048_576;

/**
 * Most calls (images) a SmoothedClassifier runs at once (`imagesInFlight`): 64. Each holds its own buffer set;
 * beyond a few dozen the merged batches are full anyway.
 * @category Math
 */
export const MAX_IMAGES_IN_FLIGHT = 64;

/** Largest total size of the engine's batch buffers (two slots of perturbed + encoded samples per image in flight, and with several in flight their merged batch): 4 GiB. @category Math */
export const MAX_BATCH_BYTES = 4 * 1024 ** 3;

/**
 * Smallest failure probability α a certifier accepts. Clopper–Pearson bounds are verified conservative against
 * an arbitrary-precision reference for every level ≥ MIN_BOUND_LEVEL (docs/certificates.md); α ≥ 10⁻¹⁰⁰ leaves
 * room for Bonferroni splits (Lecuyer's α/c) over up to 10⁵⁰ classes.
 * @category Math
 */
export const MIN_ALPHA = 1e-100;

/** Smallest level the Clopper–Pearson functions accept (below it @stdlib's beta quantile is not reliable). @category Math */
export const MIN_BOUND_LEVEL = 1e-150;

/**
 * Deepest nesting of objects and arrays a config may have (the deepest built-in config is 4 levels). Deeper
 * configs (or cyclic objects passed from code) are a ConfigError naming the path, found by an iterative walk
 * before anything recursive (copying, validation) touches them.
 */
export const MAX_CONFIG_DEPTH = 64;

/** Most restarts of an attack per image (`attack.restarts`, `--restarts`): 10⁴, a thousand times the paper's 10. */
export const MAX_ATTACK_RESTARTS = 10_000;
