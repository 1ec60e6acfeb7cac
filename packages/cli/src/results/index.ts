export { ResultsFile, type PrepareOptions, type ResultsFileOptions, type ResultsFs, type ResultRow } from './results-file.js';
export { RunLock, lockPath, processAlive, type LockOwner } from './lock.js';
export { readMeta, readSidecar, writeSidecar, checkSameRun, firstDifference, metaPath, RESUME_EXEMPT_FIELDS, SIDECAR_FORMAT, SIDECAR_VERSION, type RunMeta } from './sidecar.js';
export { modelFingerprint, type ModelFingerprint } from './fingerprint.js';
export { ResultsWriteError, pathError, describeErrno } from './file-errors.js';
