/** Inversify service identifiers of the container's slots. @category Plug-in authors */
export const TOKENS = {
  Config: Symbol.for('ablate.Config'),
  Dataset: Symbol.for('ablate.Dataset'),
  Perturbation: Symbol.for('ablate.Perturbation'),
  Encoder: Symbol.for('ablate.Encoder'),
  BaseClassifier: Symbol.for('ablate.BaseClassifier'),
  Certifier: Symbol.for('ablate.Certifier'),
  Attack: Symbol.for('ablate.Attack'),
  SmoothingOptions: Symbol.for('ablate.SmoothingOptions'),
  SmoothedClassifier: Symbol.for('ablate.SmoothedClassifier'),
} as const;
