import { describe, expect, it } from 'vitest';
import { createMonitor, defaultDetectors } from '../monitor';
import { makeStep } from '../test/streams';
import { detectOutputSaturation } from './detect-output-saturation';

// The casebook's 3 blobs at SGD 1, seed 2, as measured (cpu): global norms and losses of its first six updates.
const NORMS = [7.512, 0.546, 1.396, 5.349, 0.267, 1.3e-7];
const LOSSES = [6.3376, 6.3519, 4.8973, 8.2738, 6.99, 5.0369];
const blobStep = (i: number, norm = NORMS[i]!, loss = LOSSES[i]!) => makeStep(i, [{ layer: 'dense_2', norm }], { loss, learningRate: 1 });
const model = [
  { name: 'dense_1', className: 'Dense', activation: 'relu' },
  { name: 'dense_2', className: 'Dense', activation: 'softmax' },
];

describe('detectOutputSaturation: the whole gradient gone at a high loss', () => {
  it('the measured blob run: quiet for five steps, then a warning at step 5 naming the softmax output and the rate', () => {
    const d = detectOutputSaturation();
    d.describeModel!(model);
    for (let i = 0; i < 5; i++) expect(d.observe(blobStep(i))).toEqual([]);
    const [f, ...rest] = d.observe(blobStep(5));
    expect(rest).toEqual([]);
    // The median of the five earlier norms [0.267, 0.546, 1.396, 5.349, 7.512] is 1.396.
    expect(f!.evidence).toEqual({
      globalNorm: 1.3e-7,
      typicalNorm: 1.396,
      ratio: 1.3e-7 / 1.396,
      loss: 5.0369,
      firstLoss: 6.3376,
      learningRate: 1,
      suggestedLearningRate: 0.1,
      rootCause: 'learning-rate',
    });
    expect(f).toMatchObject({ problem: 'saturation', severity: 'warning', layer: 'dense_2' });
    expect(f!.message).toBe(
      'The gradient vanished at a high loss: at step 5 its norm is 1.30e-7, 9.31e-8 of its recent median 1.396, while the ' +
        'loss is 5.037 (0.7948× where it started). The output layer "dense_2" (softmax) is saturated: pinned at confident ' +
        'answers, many of them wrong, it passes no gradient and the model stops learning. The updates drove it there: the ' +
        'learning rate is too high — try 0.1 (10× lower than 1); inputs on a large scale make it worse.',
    );
  });

  it('judges against the median of the last `window` finite norms, and needs `minHistory` of them', () => {
    const d = detectOutputSaturation({ window: 3, minHistory: 3 });
    expect(d.observe(blobStep(0, 1, 2))).toEqual([]);
    expect(d.observe(blobStep(1, 1e-6, 2))).toEqual([]); // only one earlier norm
    expect(d.observe(blobStep(2, Number.NaN, 2))).toEqual([]); // a non-finite step is not history
    expect(d.observe(blobStep(3, 2, 2))).toEqual([]);
    // Window [1, 1e-6, 2]: median 1; 1e-4 is exactly the bound (≤ collapse × median).
    expect(d.observe(blobStep(4, 1e-4, 2))[0]!.evidence).toMatchObject({ typicalNorm: 1, ratio: 1e-4 });
    // Window now [1e-6, 2, 1e-4]: median 1e-4, and 1.1e-8 is above 1e-4 × 1e-4.
    expect(d.observe(blobStep(5, 1.1e-8, 2))).toEqual([]);
  });

  it('quiet where the gradient may rightly vanish: a converged loss, a collapse from the first step, a loss ≤ 0', () => {
    const converged = detectOutputSaturation();
    for (let i = 0; i < 10; i++) converged.observe(blobStep(i, 1, 2 - i * 0.1));
    expect(converged.observe(blobStep(10, 0, 0.99))).toEqual([]); // below half of the first loss (2)
    const flat = detectOutputSaturation();
    for (let i = 0; i < 10; i++) expect(flat.observe(blobStep(i, 0, 5))).toEqual([]); // no gradient ever: median 0
    const negative = detectOutputSaturation();
    for (let i = 0; i < 5; i++) negative.observe(blobStep(i, 1, -3));
    expect(negative.observe(blobStep(5, 0, -3))).toEqual([]);
  });

  it('without a model description it speaks of the output layer, without a rate of the rate 10× lower', () => {
    const d = detectOutputSaturation();
    for (let i = 0; i < 3; i++) d.observe(makeStep(i, [{ layer: 'a', norm: 1 }], { loss: 3 }));
    const [f] = d.observe(makeStep(3, [{ layer: 'a', norm: 0 }], { loss: 3 }));
    expect(f!.layer).toBeUndefined();
    expect(f!.evidence).toMatchObject({ learningRate: null, suggestedLearningRate: null, ratio: 0 });
    expect(f!.message).toContain('The output layer is saturated');
    expect(f!.message).toContain('try a rate 10× lower;');
  });

  it('reset forgets the history and the first loss', () => {
    const d = detectOutputSaturation();
    for (let i = 0; i < 5; i++) d.observe(blobStep(i));
    d.reset();
    expect(d.observe(blobStep(5))).toEqual([]);
  });

  it('is a default detector: the monitor reports the blob run at step 5 as a saturation warning', () => {
    expect(defaultDetectors().map((x) => x.name)).toContain('detectOutputSaturation');
    const m = createMonitor();
    m.describeModel!(model);
    for (let i = 0; i < 6; i++) m.observe(blobStep(i));
    expect(m.diagnoses.filter((x) => x.severity !== 'info').map((x) => [x.step, x.problem, x.detector])).toEqual([[5, 'saturation', 'detectOutputSaturation']]);
  });

  it('rejects bad options with the value and the range', () => {
    expect(() => detectOutputSaturation({ collapse: 0 })).toThrow(/collapse/);
    expect(() => detectOutputSaturation({ collapse: 2 })).toThrow(/collapse/);
    expect(() => detectOutputSaturation({ window: 2, minHistory: 3 })).toThrow(/minHistory/);
    expect(() => detectOutputSaturation({ windows: 3 } as never)).toThrow(/windows/);
  });
});
