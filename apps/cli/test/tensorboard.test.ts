import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunLogFile } from '@gradguard/reporter/node';
import { type DecodedEvent, decodeEvent, readTfRecords } from '@gradguard/vitest-config/tensorboard-events';
import { afterAll, describe, expect, it } from 'vitest';
import { gradguard } from './cli';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The exploding RNN of ENVIRONMENT.md, clipped so that it trains: SimpleRNN(32, relu) over 2 inputs (1,120 weights:
// 2·32 + 32·32 + 32) and a Dense(1) head (33 weights).
const CLIPPED = ['train', '--recurrent-gain', '1.5', '--lr', '0.1', '--steps', '12', '--samples', '128', '--clip-global-norm', '1', '-q'];
const SIZES: Record<string, number> = { recurrent_1: 1120, head: 33 };

function trainWithTensorBoard(extra: readonly string[]): { events: DecodedEvent[]; log: ReturnType<typeof readRunLogFile>; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-tb-'));
  dirs.push(dir);
  const r = gradguard([...CLIPPED, '--tensorboard', join(dir, 'tb'), '--log', join(dir, 'run.jsonl'), ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const [file] = readdirSync(join(dir, 'tb'));
  const events = readTfRecords(new Uint8Array(readFileSync(join(dir, 'tb', file!)))).map(decodeEvent);
  return { events, log: readRunLogFile(join(dir, 'run.jsonl')), stdout: r.stdout };
}

const stepsWith = (events: readonly DecodedEvent[], prefix: string): number[] => events.filter((e) => [...e.histos.keys()].some((t) => t.startsWith(prefix))).map((e) => e.step);

describe('train --tensorboard: per-layer gradient and weight histograms at the --histogram-every cadence', () => {
  it.each([1, 2])('seed %i, every 5 steps: histograms at steps 0, 5, 10 that agree with the run log', (seed) => {
    const { events, log, stdout } = trainWithTensorBoard(['--histogram-every', '5', '--seed', String(seed)]);
    expect(stdout).toMatch(/TensorBoard\s+.*events\.out\.tfevents\..*\(histograms every 5 steps; tensorboard --logdir /);
    expect(log.steps).toHaveLength(12);
    expect(stepsWith(events, 'grad_log10_abs/')).toEqual([0, 5, 10]);
    expect(stepsWith(events, 'weights/')).toEqual([0, 5, 10]);
    let compared = 0;
    for (const e of events.filter((x) => x.histos.has('weights/head'))) {
      for (const layer of ['recurrent_1', 'head']) {
        // Weights: every value of the layer, read after the step's update — so their L2 norm is the norm the guard
        // measured before the next step (the log's weightNorm, measured on each of the first 10 steps and every 10th).
        const w = e.histos.get(`weights/${layer}`)!;
        expect(w.num).toBe(SIZES[layer]);
        expect(w.counts.reduce((a, b) => a + b, 0)).toBe(SIZES[layer]);
        const next = log.steps[e.step + 1]!.layers.find((l) => l.layer === layer)!;
        if (next.weightNorm !== undefined) {
          expect(Math.sqrt(w.sumSquares)).toBeCloseTo(next.weightNorm, 5);
          compared++;
        }
        // Gradients: log10|g| of every finite non-zero entry, from the step record's own bins.
        const g = e.histos.get(`grad_log10_abs/${layer}`)!;
        const rec = log.steps[e.step]!.layers.find((l) => l.layer === layer)!;
        expect(g.num).toBe(rec.size - rec.zeros - rec.nonFinite);
        expect(g.counts.reduce((a, b) => a + b, 0)).toBe(g.num);
        // Its top is the upper edge of the bin (half a decade wide) holding the layer's largest |g|.
        expect(g.max).toBeGreaterThanOrEqual(Math.log10(rec.maxAbs) - 1e-9);
        expect(g.max).toBeLessThanOrEqual(Math.log10(rec.maxAbs) + 0.5);
      }
    }
    expect(compared).toBeGreaterThanOrEqual(4); // steps 0 and 5, both layers (steps 1 and 6 have weight norms)
  });

  it('the default cadence is 10 steps: histograms at steps 0 and 10 of 12; scalars on every step', () => {
    const { events } = trainWithTensorBoard([]);
    expect(stepsWith(events, 'grad_log10_abs/')).toEqual([0, 10]);
    expect(stepsWith(events, 'weights/')).toEqual([0, 10]);
    expect(events.filter((e) => e.scalars.has('loss')).map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('--histogram-every must be a whole number >= 1 (exit 2, before training)', () => {
    const r = gradguard([...CLIPPED, '--tensorboard', join(tmpdir(), 'never-written'), '--histogram-every', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--histogram-every/);
  });
});
