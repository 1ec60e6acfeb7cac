import { describe, expect, it } from 'vitest';
import { AblationPerturbation, CohenCertifier, FunctionClassifier, MultichannelEncoder, SmoothedClassifier, type Certificate, type Certifier } from '../src/index.js';

// Hostile pass (issue 20 follow-up): a plug-in certifier is code ablate did not write. Its output becomes a row (and a
// summary) only when it is a well-shaped certificate: a class or null, a finite radius ≥ 0 exactly with a class,
// pLower a probability, integer counts with nA ≤ n. Before, { prediction: 0, radius: NaN, pLower: 2 } was written
// as a row predicting class 0 with radius null.
const image = { data: new Float32Array(4 * 4).fill(0.5), shape: [1, 4, 4] as [number, number, number] };
function smoothedWith(certificate: Partial<Certificate>): SmoothedClassifier {
  const real = new CohenCertifier({ alpha: 0.05, n0: 5, n: 20 });
  const rogue: Certifier = Object.assign(Object.create(real) as Certifier, {
    type: 'rogue',
    certify: async (sampler: Parameters<Certifier['certify']>[0], bound: Parameters<Certifier['certify']>[1]) => ({ ...(await real.certify(sampler, bound)), ...certificate }),
  });
  return new SmoothedClassifier(new AblationPerturbation({ retain: 4 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 3, predict: () => 1 }), rogue, { batchSize: 10 });
}

describe('a certifier’s output is checked before it is a certificate', () => {
  it('the honest output passes unchanged (class 1, nA = n = 20, Cohen’s radius)', async () => {
    const c = await smoothedWith({}).certify(image);
    expect(c).toMatchObject({ prediction: 1, nA: 20, n: 20 });
    expect(c.radius).toBeGreaterThanOrEqual(0);
  });

  const cases: [string, Partial<Certificate>, string][] = [
    ['NaN radius', { radius: NaN }, 'radius'],
    ['infinite radius', { radius: Infinity }, 'radius'],
    ['negative radius', { radius: -1 }, 'radius'],
    ['a radius while abstaining', { prediction: null, radius: 3 }, 'radius'],
    ['no radius with a prediction', { radius: null }, 'radius'],
    ['pLower 2', { pLower: 2 }, 'pLower'],
    ['pLower NaN', { pLower: NaN }, 'pLower'],
    ['a fractional class', { prediction: 1.5 }, 'prediction'],
    ['a class the model does not have', { prediction: 3 }, 'prediction'],
    ['nA above n', { nA: 21 }, 'nA'],
    ['a negative count', { n: -1 }, 'n'],
  ];
  for (const [name, forged, field] of cases) {
    it(`${name} is an ABLATE_CERTIFIER error naming certificate.${field}, from certify and certifyAndPredict`, async () => {
      const s = smoothedWith(forged);
      await expect(s.certify(image)).rejects.toMatchObject({ code: 'ABLATE_CERTIFIER', field: `certificate.${field}`, message: expect.stringContaining('certifier "rogue" returned') });
      await expect(s.certifyAndPredict(image, { predictN: 10 })).rejects.toMatchObject({ code: 'ABLATE_CERTIFIER', field: `certificate.${field}` });
    });
  }
});
