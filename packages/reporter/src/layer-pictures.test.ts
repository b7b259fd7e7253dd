import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunLog, StepRecord } from '@gradguard/core/run-log';
import * as tf from '@tensorflow/tfjs-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartData } from './chart-data';
import { writeHtmlReport } from './node';
import { launchChromium } from './test-browser';
import { realMlpRun } from './test-real-runs';
import { guardedRun, headerOf, stepOf } from './test-runs';

// Screenshots of the HTML report in headless Chromium, checked pixel by pixel where the picture says something: the
// hot colour where a real run explodes, the NaN colour where it went NaN, the blamed layer's red bar, distinct colours.

type Rgb = readonly [number, number, number];
// The heatmap's ramp runs blue → pale → yellow → orange → red: warm is its upper half, hot its red end.
const isWarm = ([r, , b]: Rgb): boolean => r > 150 && r > b + 100;
const isHot = ([r, g, b]: Rgb): boolean => r > 150 && g < 120 && b < 90;
const isNanColour = ([r, g, b]: Rgb): boolean => r > 220 && g < 40 && b > 220; // #ff00ff
const isBlamedRed = ([r, g, b]: Rgb): boolean => Math.abs(r - 0xcf) < 20 && Math.abs(g - 0x22) < 20 && Math.abs(b - 0x2e) < 20;
const isBarGrey = ([r, g, b]: Rgb): boolean => Math.abs(r - 0x8c) < 16 && Math.abs(g - 0x95) < 16 && Math.abs(b - 0x9f) < 16;

let browser: Browser;
let decoder: Page;
let exploding: RunLog;
let healthy: RunLog;
beforeAll(async () => {
  browser = await launchChromium();
  decoder = await browser.newPage();
  exploding = await realMlpRun(1);
  healthy = await realMlpRun(0.1);
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** Opens the report of `log` offline, as a user would, and waits until every chart is drawn. */
async function openReport(log: RunLog, errors: string[]): Promise<Page> {
  const dir = mkdtempSync(join(tmpdir(), 'gradguard-pictures-'));
  const file = join(dir, 'report.html');
  writeHtmlReport(file, log);
  const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 1600 }, deviceScaleFactor: 1 });
  const tab = await context.newPage();
  tab.on('pageerror', (e) => errors.push(e.message));
  tab.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await tab.goto(pathToFileURL(file).href);
  await tab.waitForFunction(() => (window as unknown as { gradguardCharts?: unknown[] }).gradguardCharts?.length === 4);
  return tab;
}

/** The colours at `points` (CSS pixels) of a PNG screenshot, decoded by the browser. */
function colours(png: Buffer, points: readonly (readonly [number, number])[]): Promise<Rgb[]> {
  return decoder.evaluate(
    async ({ b64, points }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      return points.map(([x, y]) => {
        const i = (Math.floor(y!) * c.width + Math.floor(x!)) * 4;
        return [d[i]!, d[i + 1]!, d[i + 2]!] as [number, number, number];
      });
    },
    { b64: png.toString('base64'), points: points.map((p) => [...p]) },
  );
}

/** How many pixels of a PNG screenshot lie within `tolerance` (max channel difference) of each colour. */
function countNear(png: Buffer, targets: readonly Rgb[], tolerance: number): Promise<number[]> {
  return decoder.evaluate(
    async ({ b64, targets, tolerance }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const counts = targets.map(() => 0);
      for (let i = 0; i < d.length; i += 4) {
        targets.forEach((t, k) => {
          if (Math.abs(d[i]! - t[0]!) <= tolerance && Math.abs(d[i + 1]! - t[1]!) <= tolerance && Math.abs(d[i + 2]! - t[2]!) <= tolerance) counts[k]!++;
        });
      }
      return counts;
    },
    { b64: png.toString('base64'), targets: targets.map((t) => [...t]), tolerance },
  );
}

/** The geometry the heatmap or bar chart wrote on its canvas. */
async function geometry(tab: Page, id: string): Promise<Record<string, number>> {
  return tab.evaluate((sel) => {
    const c = document.querySelector(sel)!;
    return Object.fromEntries(Array.from(c.attributes).filter((a) => a.name.startsWith('data-')).map((a) => [a.name.slice(5), Number(a.value)]));
  }, `#${id}`);
}

const hexRgb = (c: string): Rgb => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as unknown as Rgb;

describe('layer pictures of a real run, in screenshots of the HTML report', () => {
  it('the exploding run: late cells of the layer that keeps growing are hot, NaN cells magenta, the blamed bar red', async () => {
    const d = chartData([exploding]);
    const heat = d.heatmaps[0]!;
    expect(heat.rows).toEqual(['dense_1', 'dense_2', 'dense_3', 'head']); // model order, input to output
    const headRow = heat.rows.indexOf('head');
    const firstNaN = exploding.steps.find((s) => s.layers.some((l) => Number.isNaN(l.norm)))!.step;
    // The head's gradient keeps growing (tanh saturates the hidden layers: their gradients go to 0, then NaN).
    const lateHead = exploding.steps.filter((s) => s.step >= firstNaN - 4 && Number.isFinite(s.layers[headRow]!.norm)).map((s) => s.step);
    expect(lateHead.length).toBeGreaterThanOrEqual(3);
    for (const s of lateHead) expect(exploding.steps[s]!.layers[headRow]!.norm).toBeGreaterThan(1e12);

    const errors: string[] = [];
    const tab = await openReport(exploding, errors);
    const g = await geometry(tab, 'picture-heatmap-0');
    expect([g.rows, g.columns]).toEqual([4, exploding.steps.length]);
    const shot = await tab.locator('#picture-heatmap-0').screenshot();
    const cell = (row: number, step: number): [number, number] => [g.left! + (heat.from.indexOf(step) + 0.5) * g['cell-w']!, g.top! + (row + 0.5) * g['cell-h']!];
    const late = await colours(shot, lateHead.map((s) => cell(headRow, s)));
    late.forEach((c, i) => expect(isWarm(c), `head at step ${lateHead[i]} is ${c}`).toBe(true));
    // Its last two finite steps are the red end of the scale.
    late.slice(-2).forEach((c, i) => expect(isHot(c), `head at step ${lateHead.at(i - 2)} is ${c}`).toBe(true));
    // The first steps are cool: norms of 1–10, orders of magnitude below the explosion.
    for (const c of await colours(shot, [0, 1, 2, 3].map((r) => cell(r, 0)))) expect(isWarm(c) || isNanColour(c), `step 0: ${c}`).toBe(false);
    const nanCells = exploding.steps.flatMap((s) => s.layers.map((l, r) => ({ s: s.step, r, nan: Number.isNaN(l.norm) }))).filter((x) => x.nan);
    expect(nanCells.length).toBeGreaterThan(4);
    for (const c of await colours(shot, nanCells.map((x) => cell(x.r, x.s)))) expect(isNanColour(c), `NaN cell is ${c}`).toBe(true);

    // The bars at the first diagnosis: the blamed layer red, the others grey.
    const bars = d.bars[0]!;
    expect(bars.blamed).toBeDefined();
    const blamedRow = bars.bars.findIndex((b) => b.blamed);
    expect(blamedRow).toBeGreaterThanOrEqual(0);
    const b = await geometry(tab, 'picture-bars-0');
    expect(b.bars).toBe(4);
    const barShot = await tab.locator('#picture-bars-0').screenshot();
    const barColours = await colours(barShot, bars.bars.map((_, i) => [b.left! + 3, b.top! + (i + 0.5) * b['row-h']!]));
    barColours.forEach((c, i) => expect(i === blamedRow ? isBlamedRed(c) : isBarGrey(c), `bar ${bars.bars[i]!.layer}: ${c}`).toBe(true));
    expect(await tab.locator('#layer-pictures').innerText()).toContain(`blamed on layer ${bars.blamed}`);
    expect(errors).toEqual([]);
    await tab.context().close();
  }, 60_000);

  it('the healthy run: no hot and no NaN cell, and no bars (nothing was diagnosed)', async () => {
    expect(healthy.diagnoses).toEqual([]);
    const errors: string[] = [];
    const tab = await openReport(healthy, errors);
    const g = await geometry(tab, 'picture-heatmap-0');
    const shot = await tab.locator('#picture-heatmap-0').screenshot();
    const points: [number, number][] = [];
    for (let r = 0; r < g.rows!; r++) for (let c = 0; c < g.columns!; c++) points.push([g.left! + (c + 0.5) * g['cell-w']!, g.top! + (r + 0.5) * g['cell-h']!]);
    const all = await colours(shot, points);
    expect(all).toHaveLength(4 * healthy.steps.length);
    for (const c of all) expect(isWarm(c) || isNanColour(c), `healthy cell ${c}`).toBe(false);
    expect(await tab.locator('canvas[id^="picture-bars"]').count()).toBe(0);
    expect(await tab.locator('#layer-pictures').innerText()).toContain('No diagnosis');
    expect(errors).toEqual([]);
    await tab.context().close();
  }, 60_000);

  it('hot cells and NaN cells under other seeds too (the data the heatmap draws)', async () => {
    for (const seed of [2, 3]) {
      const log = await realMlpRun(1, { seed });
      const heat = chartData([log]).heatmaps[0]!;
      const cols = heat.from.length;
      const finite = heat.cells.filter((c): c is number => typeof c === 'number');
      const top = Math.max(...finite);
      // Some layer reaches at least ten decades above where every layer started, and some cells are NaN.
      expect(top - Math.max(...[0, 1, 2, 3].map((r) => heat.cells[r * cols] as number)), `seed ${seed}`).toBeGreaterThan(10);
      expect(heat.cells.filter((c) => c === 'nan').length, `seed ${seed}`).toBeGreaterThan(0);
      expect(chartData([log]).bars[0]!.severity, `seed ${seed}`).toBe('critical');
    }
    expect(tf.memory().numTensors).toBeLessThan(50); // the runs disposed their models and batches
  }, 60_000);
});

describe('colours of the line charts, in screenshots', () => {
  /** A run with `n` layers, each a decade apart, so that every line is visible on the log axis. */
  function manyLayers(n: number): RunLog {
    const steps: StepRecord[] = Array.from({ length: 30 }, (_, i) => ({
      ...stepOf(i, 1),
      layers: Array.from({ length: n }, (_, k) => ({ layer: `layer_${k}`, size: 4, norm: 10 ** (k / 2) * (1 + 0.3 * Math.sin(i / 3 + k)), maxAbs: 1, nonFinite: 0, zeros: 0 })),
    }));
    return { header: headerOf(`${n} layers`, {}), steps, diagnoses: [], end: undefined, truncated: false };
  }

  it('24 layers: 20 drawn lines and the "other layers" line, 21 distinct colours, each visible on the chart', async () => {
    const errors: string[] = [];
    const tab = await openReport(manyLayers(24), errors);
    const strokes = await tab.evaluate(() => {
      const charts = (window as unknown as { gradguardCharts: { series: { label?: string; _stroke?: string; stroke?: unknown }[] }[] }).gradguardCharts;
      return charts[2]!.series.slice(1).map((s) => (typeof s.stroke === 'function' ? String((s.stroke as () => unknown)()) : String(s._stroke ?? s.stroke)));
    });
    expect(strokes).toHaveLength(21);
    expect(new Set(strokes).size).toBe(21);
    const rgb = strokes.map(hexRgb);
    // Distinct to the eye, not only as strings: every pair differs by more than 40 in some channel.
    for (let i = 0; i < rgb.length; i++) {
      for (let j = i + 1; j < rgb.length; j++) {
        expect(Math.max(...[0, 1, 2].map((k) => Math.abs(rgb[i]![k]! - rgb[j]![k]!))), `${strokes[i]} vs ${strokes[j]}`).toBeGreaterThan(40);
      }
    }
    const shot = await tab.locator('#chart-layers canvas').screenshot();
    const counts = await countNear(shot, rgb, 10);
    counts.forEach((n, i) => expect(n, `pixels of ${strokes[i]}`).toBeGreaterThan(15));
    expect(errors).toEqual([]);
    await tab.context().close();
  }, 60_000);

  it('pre- and post-clip norms in two colours, and the clip scale and learning rate chart', async () => {
    const errors: string[] = [];
    const tab = await openReport(guardedRun, errors);
    const series = await tab.evaluate(() => {
      const charts = (window as unknown as { gradguardCharts: { series: { label?: string; _stroke?: string; stroke?: unknown }[] }[] }).gradguardCharts;
      return [1, 3].map((k) => charts[k]!.series.slice(1).map((s) => [s.label, typeof s.stroke === 'function' ? String((s.stroke as () => unknown)()) : String(s._stroke ?? s.stroke)]));
    });
    const [norm, rate] = series as [string, string][][];
    const pre = norm!.find(([l]) => l === 'pre-clip ‖g‖')![1];
    const post = norm!.find(([l]) => l === 'post-clip ‖g‖')![1];
    expect(pre).not.toBe(post);
    const [nPre, nPost] = await countNear(await tab.locator('#chart-norm canvas').screenshot(), [hexRgb(pre), hexRgb(post)], 10);
    expect(nPre).toBeGreaterThan(15);
    expect(nPost).toBeGreaterThan(15);
    expect(rate!.map(([l]) => l)).toEqual(['clip scale', 'learning rate']);
    expect(await tab.locator('#chart-rate').count()).toBe(1);
    expect(errors).toEqual([]);
    await tab.context().close();
  }, 60_000);
});
