import { describe, expect, it } from 'vitest';
import { createMonitor } from '../monitor';
import { makeStep } from '../test/streams';
import { detectDyingRelu } from './detect-dying-relu';
import { detectSaturation } from './detect-saturation';
import { unitKind } from './unit-kind';

// The measured LSTM encoder–decoder under RMSProp 1 (seed 2): from step 2 the decoder's gradient is 99.6 % zeros.
const model = [
  { name: 'embedding', className: 'Embedding' },
  { name: 'encoder', className: 'LSTM', activation: 'tanh' },
  { name: 'decoder', className: 'LSTM', activation: 'tanh' },
  { name: 'output', className: 'TimeDistributed', activation: 'softmax' },
];
const step = (i: number, decoderZeros: number, embeddingZeros = 90) =>
  makeStep(i, [
    { layer: 'embedding', norm: 1e-9, zeros: embeddingZeros },
    { layer: 'encoder', norm: 1e-6, zeros: 20 },
    { layer: 'decoder', norm: 1e-6, zeros: decoderZeros },
    { layer: 'output', norm: 0.4, zeros: 0 },
  ]);

describe('saturated units are named as saturation, dead ReLU only in ReLU-family layers', () => {
  it('zero kernel rows under live units are not saturation: a softmax output fed by dead ReLUs (measured: blobs, SGD momentum 0.99)', () => {
    // 39 of 51 entries of a Dense(3, softmax) over 16 hidden units zero: 13 of its 16 inputs are dead ReLUs (13 × 3 kernel
    // entries), but each of its 3 units still passes gradient (bias gradient p − y summed over the batch, not zero).
    const out = (i: number, biasZeros: number) => {
      const s = makeStep(i, [{ layer: 'out', norm: 0.3, size: 51, zeros: 39 }]);
      return { ...s, layers: [{ ...s.layers[0]!, biasSize: 3, biasZeros }] };
    };
    const d = detectSaturation({ patience: 2 });
    d.describeModel!([{ name: 'out', className: 'Dense', activation: 'softmax' }]);
    for (let i = 0; i < 6; i++) expect(d.observe(out(i, 0))).toEqual([]);
    // With one of its three units silent (a third), the same zeros are its own.
    expect(d.observe(out(6, 1))).toEqual([]);
    const [f] = d.observe(out(7, 1));
    expect(f).toMatchObject({ problem: 'saturation', layer: 'out', evidence: { zeroFraction: 39 / 51, basis: 'entries', streak: 2 } });
  });

  it('an LSTM with 99.6 % zero gradients for 5 steps: saturation in "decoder" (LSTM) at step 6, no dying-relu', () => {
    const m = createMonitor({ detectors: [detectDyingRelu(), detectSaturation()] });
    m.describeModel!(model);
    for (let i = 0; i < 2; i++) m.observe(step(i, 0));
    for (let i = 2; i < 20; i++) m.observe(step(i, 99.6));
    expect(m.diagnoses.map((d) => [d.step, d.problem, d.layer])).toEqual([[6, 'saturation', 'decoder']]);
    const d = m.diagnoses[0]!;
    expect(d.evidence).toMatchObject({ zeroFraction: 0.996, streak: 5, since: 2, className: 'LSTM', activation: 'tanh' });
    expect(d.message).toBe(
      '99.6 % of layer "decoder" (LSTM)\'s gradient entries have been exactly zero for 5 steps (since step 2): its units ' +
        'are saturated — pinned in the flat tails of their activation, they pass no gradient. The usual causes are a ' +
        'learning rate too high or inputs on a large scale.',
    );
    expect(d.advice.map((a) => a.remedy).slice(0, 2)).toEqual(['lowerLearningRate', 'normalizeInputs']);
    // The embedding's 90 % zeros (rows the batch did not use) are judged by neither rule.
  });

  it('without a model description the old verdict stands: every layer is judged by detectDyingRelu', () => {
    const m = createMonitor({ detectors: [detectDyingRelu(), detectSaturation()] });
    for (let i = 0; i < 12; i++) m.observe(step(i, 99.6));
    expect(m.diagnoses.map((d) => [d.step, d.problem, d.layer])).toEqual([[9, 'dying-relu', 'decoder']]);
  });

  it('a softmax or sigmoid Dense layer saturates; relu, relu6, elu and selu layers die; linear ones stay dying-relu', () => {
    expect(['tanh', 'sigmoid', 'hardSigmoid', 'softmax', 'softsign'].map((activation) => unitKind({ name: 'd', className: 'Dense', activation }))).toEqual(Array(5).fill('saturating'));
    expect(['relu', 'relu6', 'elu', 'selu'].map((activation) => unitKind({ name: 'd', className: 'Dense', activation }))).toEqual(Array(4).fill('relu'));
    expect(unitKind({ name: 'g', className: 'GRU', activation: 'relu' })).toBe('saturating'); // its gates are sigmoids
    expect(unitKind({ name: 'r', className: 'SimpleRNN', activation: 'relu' })).toBe('relu');
    expect(unitKind({ name: 'l', className: 'Dense', activation: 'linear' })).toBe('unknown');
    expect(unitKind({ name: 'e', className: 'Embedding' })).toBe('sparse');
    const relu = createMonitor({ detectors: [detectDyingRelu({ patience: 2 }), detectSaturation({ patience: 2 })] });
    relu.describeModel!([{ name: 'h', className: 'Dense', activation: 'relu' }, { name: 'out', className: 'Dense', activation: 'sigmoid' }]);
    for (let i = 0; i < 2; i++) relu.observe(makeStep(i, [{ layer: 'h', norm: 0, zeros: 80 }, { layer: 'out', norm: 0, zeros: 75 }]));
    expect(relu.diagnoses.map((d) => [d.problem, d.layer])).toEqual([['dying-relu', 'h'], ['saturation', 'out']]);
  });

  it('reset keeps the description; a bad description is refused with what to pass', () => {
    const d = detectSaturation({ patience: 1 });
    d.describeModel!(model);
    d.reset();
    expect(d.observe(step(0, 80))[0]).toMatchObject({ problem: 'saturation', layer: 'decoder' });
    expect(() => createMonitor().describeModel!([{ name: 'x' }] as never)).toThrow(
      'monitor.describeModel: expected an array of { name, className, activation? }',
    );
    expect(() => detectSaturation({ patience: 0 })).toThrow('patience must be an integer >= 1, got 0');
  });
});
