import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnosis, StepStatistics } from '@gradguard/core/run-log';
import { describe, expect, it } from 'vitest';
import { clipBoundOf } from './clip-bound';
import { renderHtmlReport } from './html-report';
import { createJsonlFileSink, loadChartAssets, readRunLogFile, writeHtmlReport } from './node';
import { createRecorder } from './recorder';
import { CHROMIUM, launchChromium } from './test-browser';

/** A run that explodes: norms grow ×4 per step under a clip bound of 1, then the gradients turn NaN at step 12. */
async function explodingLog(dir: string): Promise<string> {
  const path = join(dir, 'run.jsonl');
  const rec = createRecorder({
    name: 'exploding <rnn> & friends',
    sinks: [createJsonlFileSink(path)],
    backend: 'cpu',
    config: { optimizer: 'sgd', clipGlobalNorm: 1 },
    model: { name: 'rnn_model', params: 49, layers: [{ name: 'rnn', className: 'SimpleRNN', params: 40, activation: 'relu' }, { name: 'head', className: 'Dense', params: 9 }] },
  });
  for (let i = 0; i < 16; i++) {
    const bad = i >= 12;
    const rnn = bad ? Number.NaN : 0.5 * 4 ** i;
    const head = bad ? Number.NaN : 0.1 * 1.5 ** i;
    const g = Math.hypot(rnn, head);
    const s: StepStatistics = {
      step: i,
      variables: [],
      layers: [
        { layer: 'rnn', size: 40, norm: rnn, maxAbs: rnn / 4, nonFinite: bad ? 40 : 0, zeros: 0 },
        { layer: 'head', size: 9, norm: head, maxAbs: head / 2, nonFinite: bad ? 9 : 0, zeros: 0 },
      ],
      globalNorm: bad ? g : Math.min(g, 1),
      preClipNorm: g,
      postClipNorm: bad ? g : Math.min(g, 1),
      scale: bad ? Number.NaN : Math.min(1, 1 / g),
      skipped: false,
      maxAbs: rnn / 4,
      nonFinite: bad ? 49 : 0,
      size: 49,
      loss: bad ? Number.NaN : 1 / (i + 1),
      learningRate: 0.1,
    };
    rec.step(s);
    if (i === 6 || i === 12) {
      const d: Diagnosis = {
        problem: i === 6 ? 'exploding-gradient' : 'non-finite',
        severity: 'critical',
        phase: 'onset',
        step: i,
        layer: 'rnn',
        detector: i === 6 ? 'detectNormAboveBound' : 'detectNonFinite',
        message: i === 6 ? 'Global gradient norm 2048 is above 1000.' : '49 of 49 gradient entries are NaN/Infinity.',
        evidence: {},
        advice: [{ remedy: 'clipByGlobalNorm', detail: 'Clip the global norm to 1 <before> the update.' }],
      };
      rec.diagnosis(d);
    }
  }
  await rec.end('stopped', { reason: 'gradients turned NaN' });
  return path;
}

describe('renderHtmlReport', () => {
  it('escapes run text, inlines the chart library, fetches nothing, and finds the clip bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-html-'));
    const log = readRunLogFile(await explodingLog(dir));
    const html = renderHtmlReport(log, loadChartAssets());
    expect(html).toContain('<h1>exploding &lt;rnn&gt; &amp; friends</h1>');
    expect(html).toContain('Clip the global norm to 1 &lt;before&gt; the update.');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya)/); // nothing to fetch
    expect(html).toContain(loadChartAssets().script);
    expect(clipBoundOf(log)).toBe(1);
    // Without a config entry, the bound is read off the clipped steps' post-clip norm.
    expect(clipBoundOf({ ...log, header: { ...log.header, config: {} } })).toBe(1);
    expect(clipBoundOf({ ...log, header: { ...log.header, config: {} }, steps: log.steps.slice(0, 1) })).toBeUndefined();
  });

  it('opens offline in Chromium: four charts and two layer pictures drawn, diagnoses shown, no console errors', async () => {
    expect(existsSync(CHROMIUM), 'install Debian chromium: apt-get install -y chromium').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-html-'));
    const log = readRunLogFile(await explodingLog(dir));
    const page = join(dir, 'report.html');
    writeHtmlReport(page, log);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 1800 } });
      const requests: string[] = [];
      context.on('request', (r) => {
        if (!r.url().startsWith('file://')) requests.push(r.url());
      });
      const tab = await context.newPage();
      const errors: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(pathToFileURL(page).href);
      await tab.waitForFunction(() => (window as unknown as { gradguardCharts?: unknown[] }).gradguardCharts?.length === 4);
      const canvases = await tab.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLCanvasElement>('.chart canvas')).map((c) => {
          const ctx = c.getContext('2d')!;
          const px = ctx.getImageData(0, 0, c.width, c.height).data;
          let painted = 0;
          let red = 0;
          for (let i = 0; i < px.length; i += 4) {
            if (px[i + 3]! > 0) painted++;
            if (px[i]! > 150 && px[i + 1]! < 120 && px[i + 2]! < 120 && px[i + 3]! > 0) red++;
          }
          const { width: w, height: h } = c;
          return { id: c.closest('.chart')?.id, w, h, painted: painted / (w * h), red };
        }),
      );
      expect(canvases.map((c) => c.id)).toEqual(['chart-loss', 'chart-norm', 'chart-layers', 'chart-rate']);
      // The layer pictures come first: the heatmap and the bars at the first diagnosis (step 6, blamed on rnn).
      expect(await tab.locator('#layer-pictures canvas').evaluateAll((cs) => cs.map((c) => c.id))).toEqual(['picture-heatmap-0', 'picture-bars-0']);
      expect(await tab.locator('#layer-pictures').innerText()).toMatch(/critical exploding-gradient at step 6, blamed on layer rnn/);
      for (const c of canvases) {
        expect(c.w).toBeGreaterThan(300);
        expect(c.painted, `${c.id} has lines and axes drawn`).toBeGreaterThan(0.01);
        expect(c.red, `${c.id} shades the non-finite steps and marks the critical diagnoses`).toBeGreaterThan(100);
      }
      const legend = await tab.locator('#chart-norm .u-legend').innerText();
      expect(legend).toContain('pre-clip ‖g‖');
      expect(legend).toContain('clip bound');
      expect(await tab.locator('#chart-layers .u-legend').innerText()).toMatch(/rnn[\s\S]*head/);
      const body = await tab.locator('body').innerText();
      expect(body).toContain('CRITICAL');
      expect(body).toMatch(/step 6 · exploding-gradient in layer rnn \(onset\)/);
      expect(body).toContain('49 of 49 gradient entries are NaN/Infinity.');
      expect(body).toContain('Clip the global norm to 1 <before> the update.');
      expect(body).toMatch(/first non-finite step\s+12/);
      expect(body).toMatch(/status\s+stopped — gradients turned NaN/);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const shot = join(dir, 'report.png');
      await tab.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).length).toBeGreaterThan(20_000);
      if (process.env.GRADGUARD_SCREENSHOT) await tab.screenshot({ path: process.env.GRADGUARD_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
