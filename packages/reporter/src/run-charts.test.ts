import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChartData, chartData } from './chart-data';
import { loadChartAssets } from './node';
import { mountRunCharts } from './run-charts';
import { launchChromium } from './test-browser';
import { guardedRun, stepOf, unguardedRun } from './test-runs';

let browser: Awaited<ReturnType<typeof launchChromium>>;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** What the page shows: each chart's title, legend labels, series dash patterns, x column and red pixels. */
interface Shown {
  titles: string[];
  ids: string[];
  legends: string[][];
  dashed: string[][];
  xs: number[][];
  red: number[];
  same: boolean[];
}

/**
 * A blank page with uPlot's browser build and the source text of mountRunCharts only — as the HTML report inlines it —
 * so that a reference to anything outside the function fails here with a ReferenceError.
 */
async function chartPage(errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.setContent('<!doctype html><body><div id="root" style="width:900px"></div></body>');
  await page.addStyleTag({ content: loadChartAssets().css });
  await page.addScriptTag({ content: loadChartAssets().script });
  await page.addScriptTag({ content: `window.mountRunCharts = ${mountRunCharts.toString()};` });
  return page;
}

function show(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const w = window as unknown as { mounted: { charts: { series: { label?: string; dash?: number[] }[]; data: number[][] }[] }; previous?: unknown[] };
    const charts = w.mounted.charts;
    const red = Array.from(document.querySelectorAll('#root canvas')).map((c) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i]! > 150 && px[i + 1]! < 120 && px[i + 2]! < 120 && px[i + 3]! > 0) n++;
      return n;
    });
    return {
      titles: Array.from(document.querySelectorAll('#root section > h3')).map((h) => h.textContent ?? ''),
      ids: Array.from(document.querySelectorAll('#root .chart')).map((h) => h.id),
      legends: Array.from(document.querySelectorAll('#root .u-legend')).map((l) => Array.from(l.querySelectorAll('.u-label')).map((x) => x.textContent ?? '')),
      dashed: charts.map((c) => c.series.filter((s) => s.dash !== undefined).map((s) => s.label ?? '')),
      xs: charts.map((c) => c.data[0]!),
      red,
      same: charts.map((c, i) => w.previous?.[i] === c),
    };
  });
}

describe('mountRunCharts', () => {
  it('draws two runs from its source text alone: legends, dashes, red shading; update keeps or rebuilds the charts', async () => {
    const errors: string[] = [];
    const page = await chartPage(errors);
    const mount = (d: ChartData): Promise<void> =>
      page.evaluate((data) => {
        const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        w.mounted = w.mountRunCharts(document.getElementById('root'), data, w.uPlot);
      }, d as unknown as Record<string, unknown>);
    const update = (d: ChartData): Promise<void> =>
      page.evaluate((data) => {
        const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        w.previous = [...w.mounted.charts];
        w.mounted.update(data);
      }, d as unknown as Record<string, unknown>);

    await mount(chartData([unguardedRun, guardedRun], ['u', 'g']));
    const first = await show(page);
    expect(first.titles).toEqual(['Loss', 'Global gradient norm', 'Per-layer gradient norms', 'Clip scale and learning rate']);
    expect(first.ids).toEqual(['', '', '', '']);
    expect(first.legends).toEqual([
      ['u: loss', 'g: loss'],
      ['u: pre-clip ‖g‖', 'u: post-clip ‖g‖', 'g: pre-clip ‖g‖', 'g: post-clip ‖g‖', 'g: clip bound'],
      ['u: rnn', 'u: head', 'g: rnn', 'g: head'],
      ['u: clip scale', 'u: learning rate', 'g: clip scale', 'g: learning rate'],
    ]);
    // Post-clip dotted, the clip bound dashed; on the layer chart the second run is dashed; the learning rate dashed.
    expect(first.dashed).toEqual([
      [],
      ['u: post-clip ‖g‖', 'g: post-clip ‖g‖', 'g: clip bound'],
      ['g: rnn', 'g: head'],
      ['u: learning rate', 'g: learning rate'],
    ]);
    expect(first.xs).toEqual([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]);
    // Step 2 of the unguarded run is NaN: shaded red on every chart (plus the critical mark at step 1 and red lines).
    for (const n of first.red) expect(n).toBeGreaterThan(500);

    // The guarded run grows a step (a live run): same series, so the same uPlot instances get the new column.
    const grown = { ...guardedRun, steps: [...guardedRun.steps, stepOf(5, 0.1, 1)] };
    await update(chartData([unguardedRun, grown], ['u', 'g']));
    const second = await show(page);
    expect(second.same).toEqual([true, true, true, true]);
    expect(second.xs[0]).toEqual([0, 1, 2, 3, 4, 5]);

    // One run only: other series, so the charts are rebuilt (and nothing is shaded any more).
    await update(chartData([grown]));
    const third = await show(page);
    expect(third.same).toEqual([false, false, false, false]);
    expect(third.legends[1]).toEqual(['pre-clip ‖g‖', 'post-clip ‖g‖', 'clip bound']);
    expect(await page.locator('#root .uplot').count()).toBe(4);

    await page.evaluate(() => (window as unknown as { mounted: { destroy(): void } }).mounted.destroy());
    expect(await page.locator('#root').innerHTML()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('takes the heading, the ids and the height it is given', async () => {
    const errors: string[] = [];
    const page = await chartPage(errors);
    const sizes = await page.evaluate(async (data) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      w.mountRunCharts(document.getElementById('root'), data, w.uPlot, { heading: 'h2', idPrefix: 'chart-', height: 280 });
      // uPlot sizes its canvas when it commits, after this task.
      await new Promise((resolve) => requestAnimationFrame(resolve));
      return Array.from(document.querySelectorAll('#root .chart')).map((c) => ({
        id: c.id,
        heading: c.parentElement!.firstElementChild!.tagName,
        height: (c.querySelector('canvas') as HTMLCanvasElement).height,
      }));
    }, chartData([guardedRun]) as unknown as Record<string, unknown>);
    expect(sizes.map((s) => [s.id, s.heading])).toEqual([
      ['chart-loss', 'H2'],
      ['chart-norm', 'H2'],
      ['chart-layers', 'H2'],
      ['chart-rate', 'H2'],
    ]);
    // The canvas holds plot and axes at the height asked for (device pixel ratio 1), the default being 240.
    expect(sizes.map((s) => s.height)).toEqual([280, 280, 280, 280]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
