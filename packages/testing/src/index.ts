export { paperCnn, smallCnn, cnnWeights, type CnnSpec, type CnnWeights } from './cnn.js';
export { writeOnnxCnn } from './onnx-writer.js';
export { writeTfjsCnn } from './tfjs-writer.js';
