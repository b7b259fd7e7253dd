import * as tf from '@tensorflow/tfjs';
import { parseRunLog } from '@gradguard/core/run-log';
import { expectNoLeak } from '@gradguard/vitest-config/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIVE_SETUP, type LiveRun, startLiveTraining } from './live-training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('startLiveTraining (cpu backend, in Node)', () => {
  it('stops the unguarded run at its first NaN, trains the clipped one to the end, and disposes every tensor', async () => {
    const updates: number[] = [];
    const session = await expectNoLeak(async () => {
      const s = startLiveTraining({ steps: 5, backend: 'cpu', onUpdate: (runs) => updates.push(runs[1]!.log.steps.length) });
      await s.done;
      return s;
    });
    const [u, g] = session.runs as [LiveRun, LiveRun];
    expect(u.status).toBe('stopped');
    expect(u.reason).toBe('loss and gradients non-finite since step 1: the weights are lost');
    expect(u.log.steps.map((s) => Number.isFinite(s.loss!))).toEqual([true, false]);
    expect(u.log.diagnoses.filter((d) => d.phase === 'onset').map((d) => `${d.step}:${d.problem}:${d.layer}`)).toEqual(
      expect.arrayContaining(['0:exploding-gradient:rnn', '1:non-finite:rnn']),
    );
    expect(g.status).toBe('completed');
    expect(g.log.steps).toHaveLength(5);
    // clipByGlobalNorm(1): every applied gradient has global norm min(‖g‖, 1).
    for (const s of g.log.steps) {
      expect(s.postClipNorm).toBeCloseTo(Math.min(s.preClipNorm, LIVE_SETUP.maxNorm), 4);
      expect(Number.isFinite(s.loss!)).toBe(true);
    }
    // Both runs see the same weights and batch at step 0: identical statistics until the first update differs.
    expect(g.log.steps[0]!.preClipNorm).toBe(u.log.steps[0]!.preClipNorm);
    expect(g.log.steps[0]!.loss).toBe(u.log.steps[0]!.loss);
    // One update per step, plus the final one after the runs end.
    expect(updates).toEqual([1, 2, 3, 4, 5, 5]);
    // The JSONL it recorded is the same run, read back by the run-log parser.
    for (const r of [u, g]) {
      const back = parseRunLog(r.jsonl.join(''));
      expect(back.header.name).toBe(`live-${r.label}`);
      expect(back.header.backend).toBe('cpu');
      expect(back.steps.map((s) => s.loss)).toEqual(r.log.steps.map((s) => s.loss));
      expect(back.diagnoses).toHaveLength(r.log.diagnoses.length);
      expect(back.end?.status).toBe(r.status);
    }
    expect(parseRunLog(u.jsonl.join('')).header.config).not.toHaveProperty('maxNorm');
    expect(parseRunLog(g.jsonl.join('')).header.config).toMatchObject({ maxNorm: 1, transform: 'clipByGlobalNorm(1)' });
  });

  it('stop() ends both runs after the current step', async () => {
    let session: ReturnType<typeof startLiveTraining> | undefined;
    await expectNoLeak(async () => {
      session = startLiveTraining({
        steps: 100,
        backend: 'cpu',
        onUpdate: (runs) => {
          if (runs[1]!.log.steps.length === 3) session!.stop();
        },
      });
      await session.done;
    });
    const g = session!.runs[1]!;
    expect(g.status).toBe('stopped');
    expect(g.reason).toBe('stopped from the page');
    expect(g.log.steps).toHaveLength(3);
    expect(g.log.end).toMatchObject({ status: 'stopped', steps: 3 });
  });
});
