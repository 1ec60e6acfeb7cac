export { main, buildProgram, type Io } from './program.js';
export { summarize, formatSummary, type Summary } from './summary.js';
export { certifiedAccuracySvg } from './plot.js';
export { effectiveConfig, readConfigFile, type ConfigOverrides } from './config.js';
export * from './results/index.js';
export { UsageError, EXIT } from './errors.js';
