import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReadback } from './readback';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['host', 'device'] as const)('createReadback(%s)', (kind) => {
  it('gives each participant its own values back by name, whatever the shapes and dtypes, and frees what it held', async () => {
    const values = await expectNoLeak(async () => {
      const r = createReadback(kind);
      expect(r.kind).toBe(kind);
      r.add('loss', tf.scalar(0.25));
      r.add('flags', tf.tensor2d([[1, 0], [0, 1]]));
      r.add('count', tf.scalar(7, 'int32'));
      r.set('known', [3, 4]);
      return r.read();
    });
    expect([...values.keys()].sort()).toEqual(['count', 'flags', 'known', 'loss']);
    expect(Array.from(values.get('loss')!)).toEqual([0.25]);
    expect(Array.from(values.get('flags')!)).toEqual([1, 0, 0, 1]);
    expect(Array.from(values.get('count')!)).toEqual([7]);
    expect(Array.from(values.get('known')!)).toEqual([3, 4]);
  });

  it('reads a borrowed tensor without taking it over: its owner keeps it, and nothing else is left behind', async () => {
    const loss = tf.scalar(1.5);
    await expectNoLeak(async () => {
      const r = createReadback(kind);
      r.borrow('loss', loss);
      r.add('own', tf.tensor([2, 3]));
      const values = await r.read();
      expect(Array.from(values.get('loss')!)).toEqual([1.5]);
      expect(Array.from(values.get('own')!)).toEqual([2, 3]);
    });
    expect(loss.isDisposed).toBe(false);
    loss.dispose();
  });

  it('refuses a key registered twice in one step, and dispose() frees what was never read', async () => {
    await expectNoLeak(async () => {
      const r = createReadback(kind);
      r.add('x', tf.scalar(1));
      expect(() => r.add('x', tf.scalar(2))).toThrow(/the key "x" is registered twice in one step/);
      expect(() => r.set('x', [1])).toThrow(/registered twice/);
      r.dispose();
    });
  });
});

describe('createReadback', () => {
  it("readSync is for host readbacks: a device one says to await read()", () => {
    expect(() => createReadback('device').readSync()).toThrow(/readSync\(\) is for host readbacks only/);
  });
});
