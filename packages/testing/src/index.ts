export { paperCnn, smallCnn, cnnWeights, type CnnSpec, type CnnWeights } from './cnn.js';
export { writeOnnxCnn } from './onnx-writer.js';
export { readOnnxCnn } from './onnx-reader.js';
export { writeTfjsCnn } from './tfjs-writer.js';
export { writeHostileOnnx, type HostileOnnxSpec } from './hostile-onnx.js';
export { trackSessionRelease } from './session-release.js';
export { idxBytes } from './idx.js';
