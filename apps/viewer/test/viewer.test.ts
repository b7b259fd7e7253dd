import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createMonitor } from '@gradguard/core';
import { type RunLog, type RunLogRecord, encodeRunLogRecord, parseRunLog } from '@gradguard/core/run-log';
import { guard } from '@gradguard/mitigations';
import { addingProblem, buildSimpleRnn } from '@gradguard/models';
import { type Browser, type Page, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@gradguard/vitest-config/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_SETUP } from '../src/live-training';
import { serveDist } from './static-server';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, 'fixtures', name);
const ARGS = [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'];

let server: Awaited<ReturnType<typeof serveDist>>;
let browser: Browser;

beforeAll(async () => {
  // Its own build folder: turbo may run the viewer's `build` (which empties dist/) while these tests serve the page.
  server = await serveDist(join(here, '..', 'dist-test'));
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh page on the viewer, collecting console errors and uncaught exceptions (each test asserts there are none). */
async function openViewer(hash = '', on: Browser = browser): Promise<{ page: Page; errors: string[] }> {
  const page = await on.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + hash);
  return { page, errors };
}

/** Pixels of each chart canvas under `selector` within `tol` of the colour `rgb` (a drawn series, not axes or grid). */
function countColor(page: Page, selector: string, rgb: readonly [number, number, number], tol = 40): Promise<number[]> {
  return page.$$eval(
    `${selector} canvas`,
    (canvases, [r, g, b, t]) =>
      canvases.map((c) => {
        const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! > 200 && Math.abs(data[i]! - r!) < t! && Math.abs(data[i + 1]! - g!) < t! && Math.abs(data[i + 2]! - b!) < t!) n++;
        }
        return n;
      }),
    [rgb[0], rgb[1], rgb[2], tol] as const,
  );
}

const GREEN = [0x1a, 0x7f, 0x37] as const; // second run
const BLUE = [0x4e, 0x79, 0xa7] as const; // first layer
const ORANGE = [0xf2, 0x8e, 0x2b] as const; // second layer

/** The loss and global-norm charts show the second run's line, the layer chart both layers' lines. */
async function expectLinesDrawn(page: Page, charts: string): Promise<void> {
  const green = await countColor(page, charts, GREEN);
  const blue = await countColor(page, charts, BLUE);
  const orange = await countColor(page, charts, ORANGE);
  const counts = `green ${green}, blue ${blue}, orange ${orange}`;
  expect(green[0]! > 100 && green[1]! > 100, counts).toBe(true);
  expect(blue[2]! > 100 && orange[2]! > 100, counts).toBe(true);
}

describe('run logs', () => {
  it('opens the two logs `gradguard demo` wrote, charts them and lists the diagnoses with layer "rnn"', async () => {
    const { page, errors } = await openViewer();
    await page.setInputFiles('[data-testid=file-input]', [fixture('demo-unguarded.jsonl'), fixture('demo-guarded.jsonl')]);
    await page.waitForSelector('[data-testid=run] >> nth=1');
    const names = await page.$$eval('[data-testid=run] h2', (hs) => hs.map((h) => h.firstChild!.textContent));
    expect(names).toEqual(['demo-unguarded', 'demo-guarded']);

    const unguarded = page.locator('[data-testid=run]').nth(0);
    const guarded = page.locator('[data-testid=run]').nth(1);
    const expectedUnguarded = parseRunLog(readFileSync(fixture('demo-unguarded.jsonl'), 'utf8'));
    expect(await unguarded.locator('tr[data-key="first non-finite step"] td').textContent()).toBe('1');
    expect(await unguarded.locator('tr[data-key="steps"] td').textContent()).toBe(String(expectedUnguarded.steps.length));
    expect(await guarded.locator('tr[data-key="first non-finite step"] td').textContent()).toBe('none');
    expect(await guarded.locator('tr[data-key="clip bound"] td').textContent()).toBe('1');

    // Every diagnosis of the log is listed, in order, with its layer and advice.
    const shown = await unguarded.locator('[data-testid=diagnosis]').evaluateAll((els) =>
      els.map((e) => ({ problem: e.getAttribute('data-problem'), severity: e.getAttribute('data-severity'), layer: e.querySelector('[data-testid=diagnosis-layer]')?.textContent ?? null })),
    );
    expect(shown).toEqual(expectedUnguarded.diagnoses.map((d) => ({ problem: d.problem, severity: d.severity, layer: d.layer ?? null })));
    expect(shown.map((d) => d.layer)).toContain('rnn');
    expect(shown.some((d) => d.severity === 'critical' && (d.problem === 'exploding-gradient' || d.problem === 'non-finite'))).toBe(true);
    expect(await unguarded.locator('ul.advice code').first().textContent()).toBe('clipByGlobalNorm');

    // The comparison names the step where the runs part ways: step 1, where only the unguarded run is NaN.
    expect(await page.textContent('[data-testid=divergence]')).toContain('part ways at step 1');

    // Four charts: the guarded run's loss and global norm drawn in its colour (green pixels), and the layer chart
    // with layer "rnn" in the first layer colour (blue) and layer "head" in the second (orange); then the layer pictures.
    const charts = '[data-testid=run-charts]';
    expect(await page.$$eval(`${charts} .uplot`, (u) => u.length)).toBe(4);
    // A heatmap per run, and the bars at each run's first diagnosis (both runs have one).
    expect(await page.$$eval(`${charts} .layer-pictures canvas`, (c) => c.length)).toBe(4);
    await expectLinesDrawn(page, charts);
    const legend = await page.$$eval(`${charts} [data-chart=layers] .u-legend .u-label`, (ls) => ls.map((l) => l.textContent));
    expect(legend).toEqual(['demo-unguarded: rnn', 'demo-unguarded: head', 'demo-guarded: rnn', 'demo-guarded: head']);

    // The reporter's HTML report of a run opens from its card, with its own four charts and its layer pictures drawn.
    await page.waitForSelector('[data-testid=html-report][href^="blob:"]');
    const [popup] = await Promise.all([page.waitForEvent('popup'), unguarded.locator('[data-testid=html-report]').click()]);
    await popup.waitForSelector('#chart-layers canvas');
    expect(await popup.title()).toBe('gradguard report — demo-unguarded');
    expect(await popup.locator('.chart canvas').count()).toBe(4);
    expect(await popup.locator('#layer-pictures canvas').count()).toBe(2);
    await popup.close();

    await page.screenshot({ path: join(here, '..', '.screenshots', 'runs.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rejects garbage with the line number, flags a cut-off last line, and takes files by drag and drop', async () => {
    const { page, errors } = await openViewer();
    const good = readFileSync(fixture('demo-unguarded.jsonl'), 'utf8');
    const [header, ...rest] = good.split('\n');
    const garbage = `${header}\n${rest[0]}\nthis is not a run log\n${rest[1]}\n`;
    await page.setInputFiles('[data-testid=file-input]', { name: 'garbage.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(garbage) });
    const error = page.locator('[data-testid=load-error]');
    await error.waitFor();
    expect(await error.getAttribute('data-line')).toBe('3');
    expect(await error.textContent()).toMatch(/^garbage\.jsonl: line 3: not JSON: "this is not a run log"/);
    expect(await page.locator('[data-testid=run]').count()).toBe(0);

    // A field of the wrong type is named with its path.
    const firstStep = rest.find((l) => l.includes('"type":"step"'))!;
    expect(firstStep).toContain('"skipped":false');
    const badField = `${header}\n${firstStep.replace('"skipped":false', '"skipped":"no"')}\n`;
    await page.setInputFiles('[data-testid=file-input]', { name: 'bad-field.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(badField) });
    await page.waitForFunction(() => document.querySelector('[data-testid=load-error]')?.textContent?.startsWith('bad-field.jsonl'));
    expect(await error.textContent()).toContain('line 2: invalid run-log record at skipped');

    // A run killed mid-write: the cut-off last line is dropped and flagged, the finished steps are shown.
    const lines = good.trimEnd().split('\n');
    const stepLines = lines.filter((l) => l.includes('"type":"step"'));
    const cut = lines.slice(0, lines.indexOf(stepLines[1]!)).join('\n') + '\n' + stepLines[1]!.slice(0, 50);
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], 'killed.jsonl', { type: 'application/x-ndjson' }));
      return t;
    }, cut);
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: dt });
    await page.waitForSelector('[data-testid=truncated]');
    expect(await page.textContent('[data-testid=truncated]')).toContain('killed.jsonl: the last line was cut off');
    expect(await page.locator('[data-testid=load-errors]').isHidden()).toBe(true);
    expect(await page.locator('[data-testid=run] tr[data-key="steps"] td').textContent()).toBe('1');
    expect(await page.locator('[data-testid=run] tr[data-key=status] td').textContent()).toBe('unfinished (last line cut off)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens a 10 MB hostile log (a new layer every step, a 1 MB run name) in seconds, with bounded charts and text', async () => {
    // Before the display limits, a 4.7 MB log of this kind froze the page for 44 s.
    const payload = '</script><img src=x onerror="window.__pwned=1">';
    const records: RunLogRecord[] = [
      { type: 'header', version: 1, runId: 'hostile', name: payload + 'n'.repeat(1_000_000), startedAt: '2026-11-23T00:00:00.000Z', config: {} },
    ];
    for (let i = 0; i < 12_000; i++) {
      const norm = i === 7777 ? 1e12 : 1 + (i % 7) / 100;
      records.push({
        type: 'step', step: i, time: i, loss: 1 / (i + 1), globalNorm: norm, preClipNorm: norm, postClipNorm: norm, scale: 1, skipped: false,
        learningRate: 0.1, maxAbs: norm, nonFinite: 0,
        layers: [
          { layer: 'stable', size: 4, norm, maxAbs: norm, nonFinite: 0, zeros: 0 },
          { layer: `${payload}-${i}-${'y'.repeat(400)}`, size: 4, norm: norm / 2, maxAbs: norm, nonFinite: 0, zeros: 0 },
        ],
      });
      if (i % 20 === 0) {
        records.push({
          type: 'diagnosis', problem: 'exploding-gradient', severity: 'warning', phase: 'onset', step: i, layer: payload, detector: 'x',
          message: payload, evidence: {}, advice: [],
        });
      }
    }
    const text = `${records.map(encodeRunLogRecord).join('\n')}\n`;
    expect(text.length).toBeGreaterThan(9_000_000);
    const { page, errors } = await openViewer();
    const t0 = Date.now();
    await page.setInputFiles('[data-testid=file-input]', { name: 'hostile.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(text) });
    // Four line charts, the heatmap and the bars at the first diagnosis.
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=run-charts] .uplot canvas').length === 4 && document.querySelectorAll('[data-testid=run-charts] .layer-pictures canvas').length === 2,
      undefined,
      { timeout: 60_000 },
    );
    const seconds = (Date.now() - t0) / 1000;
    expect(seconds, 'parsed, summarized and drawn').toBeLessThan(15);
    const shown = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
      h2: document.querySelector('[data-testid=run] h2')!.textContent!.length,
      legend: document.querySelectorAll('[data-testid=run-charts] [data-chart=layers] .u-legend .u-series').length,
      diagnoses: document.querySelectorAll('[data-testid=diagnosis]').length,
      more: document.querySelector('[data-testid=more-diagnoses]')?.textContent ?? '',
      body: document.body.innerText.length,
    }));
    expect(shown.pwned).toBeUndefined();
    expect(shown.h2).toBeLessThan(300); // 200 characters, the ellipsis and the length
    expect(shown.legend).toBe(21); // 20 layers and "other layers (max)"
    expect(shown.diagnoses).toBe(200);
    expect(shown.more).toContain('400 more diagnoses');
    expect(shown.body).toBeLessThan(500_000);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** The demo model's first step on the cpu backend in Node: the reference the browser's step 0 must reproduce. */
async function referenceStepZero(): Promise<{ loss: number; preClipNorm: number }> {
  await tf.setBackend('cpu');
  const s = LIVE_SETUP;
  const model = buildSimpleRnn({ sequenceLength: s.sequenceLength, units: s.units, recurrentGain: s.recurrentGain, seed: s.seed });
  const data = addingProblem({ sequenceLength: s.sequenceLength, samples: s.batchSize * s.batches, seed: s.seed });
  const xb = data.xs.slice([0, 0, 0], [s.batchSize, s.sequenceLength, 2]);
  const yb = data.ys.slice([0, 0], [s.batchSize, 1]);
  const g = guard(tf.train.sgd(s.learningRate), { monitor: createMonitor(), model });
  g.minimize(() => tf.losses.meanSquaredError(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
  await g.flush();
  const out = { loss: g.latest!.loss!, preClipNorm: g.latest!.preClipNorm };
  g.dispose();
  model.dispose();
  tf.dispose([data.xs, data.ys, xb, yb]);
  return out;
}

/** Trains the live demo for `steps` on the backend `choice` and returns the backend and the two run logs the page made. */
async function trainLive(
  page: Page,
  steps: number,
  choice = 'auto',
  stopAfter?: number,
): Promise<{ backend: string; unguarded: RunLog; guarded: RunLog }> {
  await page.selectOption('[data-testid=backend-choice]', choice);
  await page.fill('[data-testid=steps]', String(steps));
  await page.click('[data-testid=start]');
  await page.waitForSelector('#panel-live[data-state=running]');
  if (stopAfter !== undefined) {
    // The page takes a click while it trains (it yields a frame every step): Stop ends both runs after that step.
    await page.waitForFunction(
      (n) => Number((document.querySelector('[data-testid=live-guarded] [data-testid=run-status]')?.textContent ?? '').match(/step (\d+)/)?.[1] ?? -1) >= n,
      stopAfter,
      { timeout: 60_000 },
    );
    await page.click('[data-testid=stop]');
  }
  await page.waitForSelector('#panel-live[data-state=done]', { timeout: 200_000 });
  const backend = (await page.textContent('[data-testid=backend-name]'))!;
  // The run logs the page recorded (its download links) are valid JSONL run logs.
  const logs = await page.$$eval('[data-testid=download]', (as) =>
    Promise.all(as.map(async (a) => (await fetch((a as HTMLAnchorElement).href)).text())),
  );
  const [unguarded, guarded] = logs.map((text) => parseRunLog(text));
  // For the record, not asserted (timings are not tests): the median time between the guarded run's steps.
  const gaps = guarded!.steps.slice(1).map((s, i) => s.time - guarded!.steps[i]!.time).sort((a, b) => a - b);
  console.info(`live demo on ${backend}: ${guarded!.steps.length} guarded steps, median ${gaps[gaps.length >> 1]?.toFixed(0)} ms between steps (both runs)`);
  return { backend, unguarded: unguarded!, guarded: guarded! };
}

let reference: Promise<{ loss: number; preClipNorm: number }> | undefined;

/** What the demo must show on any backend: the unguarded run blows up and is stopped, the clipped one stays finite. */
async function expectDemoBehaviour(
  page: Page,
  r: Awaited<ReturnType<typeof trainLive>>,
  steps: number,
  guardedEnd: 'completed' | 'stopped' = 'completed',
): Promise<void> {
  const { backend, unguarded: u, guarded: g } = r;
  expect(await page.getAttribute('[data-testid=live-unguarded]', 'data-status')).toBe('stopped');
  expect(await page.getAttribute('[data-testid=live-guarded]', 'data-status')).toBe(guardedEnd);
  const problems = await page.locator('[data-testid=live-unguarded] [data-testid=diagnosis]').evaluateAll((els) =>
    els.map((e) => `${e.getAttribute('data-severity')}:${e.getAttribute('data-problem')}:${e.querySelector('[data-testid=diagnosis-layer]')?.textContent}`),
  );
  expect(problems).toContain('critical:exploding-gradient:rnn');
  expect(problems).toContain('critical:non-finite:rnn');

  expect(u.header.backend).toBe(backend);
  expect(g.header.backend).toBe(backend);
  expect(u.end?.status).toBe('stopped');
  expect(u.steps.some((s) => s.nonFinite > 0 || !Number.isFinite(s.loss!))).toBe(true);
  expect(u.diagnoses.map((d) => d.problem)).toEqual(expect.arrayContaining(['exploding-gradient', 'non-finite']));
  expect(g.end?.status).toBe(guardedEnd);
  if (guardedEnd === 'completed') expect(g.steps).toHaveLength(steps);
  for (const s of g.steps) {
    expect(Number.isFinite(s.loss!) && Number.isFinite(s.preClipNorm) && s.nonFinite === 0).toBe(true);
    expect(s.postClipNorm).toBeLessThanOrEqual(LIVE_SETUP.maxNorm * (1 + 1e-4));
  }
  expect(g.steps.filter((s) => s.scale < 1).length).toBeGreaterThan(0);
  expect(await page.textContent('[data-testid=live-unguarded] tr[data-key="clip bound"] td')).toBe('none');
  expect(await page.textContent('[data-testid=live-guarded] tr[data-key="clip bound"] td')).toBe(String(LIVE_SETUP.maxNorm));

  // Step 0 (before any update) is the same computation as on the cpu backend in Node, to float32 accuracy.
  const ref = await (reference ??= referenceStepZero());
  for (const run of [u, g]) {
    expect(Math.abs(run.steps[0]!.loss! - ref.loss) / ref.loss).toBeLessThan(1e-3);
    expect(Math.abs(run.steps[0]!.preClipNorm - ref.preClipNorm) / ref.preClipNorm).toBeLessThan(1e-3);
  }
  // Every tensor of the session was disposed.
  const before = await page.getAttribute('#panel-live', 'data-tensors-before');
  expect(await page.getAttribute('#panel-live', 'data-tensors-after')).toBe(before);
}

describe('live training', () => {
  it('trains the demo on WebGPU (SwiftShader): the unguarded run explodes and is diagnosed, the guarded one stays finite', async () => {
    const { page, errors } = await openViewer('#live');
    const steps = 4;
    const started = trainLive(page, steps);
    // Charts and cards update while training runs, before the end.
    await page.waitForSelector(
      '#panel-live[data-state=running]:has([data-testid=live-charts] .uplot):has([data-testid=live-guarded][data-status=running] [data-testid=diagnosis])',
      { timeout: 60_000 },
    );
    const r = await started;
    // auto takes WebGPU, here on SwiftShader (Chromium's software Vulkan): were the flag or the driver missing, it would
    // fall back to WebGL and this fails loudly instead of passing on another backend.
    expect(r.backend).toBe('webgpu');
    expect(await page.textContent('[data-testid=adapter]')).toContain('swiftshader');
    expect(await page.textContent('[data-testid=software-gpu]')).toContain('Choose wasm for speed');
    await expectDemoBehaviour(page, r, steps);
    await expectLinesDrawn(page, '[data-testid=live-charts]');
    await page.screenshot({ path: join(here, '..', '.screenshots', 'live.png'), fullPage: true });

    // The live runs' JSONL opens in the Run logs tab like any log the CLI wrote.
    await page.click('[data-testid=open-in-runs]');
    await page.waitForSelector('#panel-runs:not([hidden]) [data-testid=run] >> nth=1');
    expect(await page.$$eval('#panel-runs [data-testid=run] h2', (hs) => hs.map((h) => h.firstChild!.textContent))).toEqual(['live-unguarded', 'live-guarded']);
    expect(await page.textContent('[data-testid=divergence]')).toContain('part ways at step 1');
    await expectLinesDrawn(page, '[data-testid=run-charts]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('falls back to WebGL without WebGPU and says why; trains on wasm when asked', async () => {
    const noGpu = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS.filter((a) => a !== '--enable-unsafe-webgpu') });
    try {
      const { page, errors } = await openViewer('#live', noGpu);
      const steps = 3;
      const webgl = await trainLive(page, steps);
      expect(webgl.backend).toBe('webgl');
      expect(await page.textContent('[data-testid=backend-skipped]')).toMatch(/webgpu skipped \((no-webgpu|no-adapter)\): .*--enable-unsafe-webgpu/);
      await expectDemoBehaviour(page, webgl, steps);

      // wasm is loaded on demand from the bundle's .wasm assets; asked for 500 steps, stopped from the page after step 4 or so.
      const wasm = await trainLive(page, 500, 'wasm', 4);
      expect(wasm.backend).toBe('wasm');
      await expectDemoBehaviour(page, wasm, 500, 'stopped');
      expect(wasm.guarded.end?.reason).toBe('stopped from the page');
      expect(wasm.guarded.steps.length).toBeGreaterThanOrEqual(5);
      expect(wasm.guarded.steps.length).toBeLessThan(50);
      expect(errors).toEqual([]);
    } finally {
      await noGpu.close();
    }
  });
});
