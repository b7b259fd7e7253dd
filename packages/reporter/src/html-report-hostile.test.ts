import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseRunLog } from '@gradguard/core/run-log';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ChartData } from './chart-data';
import { renderHtmlReport } from './html-report';
import { loadChartAssets } from './node';
import { launchChromium } from './test-browser';
import { hostileRunLogText } from './test-hostile';
import { guardedRun } from './test-runs';

/** Ten ways to try to run script through a text field of a run log, each setting `window.__pwned` if it gets through. */
const PAYLOADS = [
  '</script><script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=2">',
  'javascript:window.__pwned=3',
  '"><svg onload="window.__pwned=4">',
  `'><iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>`,
  '<!--<script>window.__pwned=6</script>-->',
  '</style></title></textarea><script>window.__pwned=7</script>',
  '<a href="javascript:window.__pwned=8" id="pwn8">click</a>',
  '\u2028\u2029</SCRIPT ><script>window.__pwned=9</script>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=10"><base href="http://evil.example/">',
];

/** The tags a report's body may hold; anything else came from a log. */
const BODY_TAGS = new Set(['h1', 'h2', 'h3', 'p', 'table', 'tr', 'th', 'td', 'ul', 'li', 'div', 'span', 'b', 'code', 'script', 'body', 'html']);

interface Opened {
  readonly pwned: unknown;
  readonly charts: number;
  readonly painted: number[];
  readonly h1: string;
}

/** Opens a report offline and says whether anything ran that should not have, and whether the charts drew. */
async function open(page: Page, path: string): Promise<Opened> {
  await page.goto(pathToFileURL(path).href);
  await page.waitForFunction(() => (window as unknown as { gradguardCharts?: unknown[] }).gradguardCharts?.length === 4, undefined, { timeout: 20_000 });
  await page.waitForTimeout(50); // a refresh or a late onerror would have happened by now
  return page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    charts: (window as unknown as { gradguardCharts: unknown[] }).gradguardCharts.length,
    painted: Array.from(document.querySelectorAll('canvas')).map((c) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
      return n / (c.width * c.height);
    }),
    h1: document.querySelector('h1')!.textContent ?? '',
  }));
}

describe('the HTML report of a hostile run log', () => {
  it('a 10 MB log with a new layer every step and 1 MB strings: a report of < 5 MB in seconds, spikes kept', () => {
    const text = hostileRunLogText({ steps: 10_000, nameChars: 1_000_000, spikeAt: 7777 });
    expect(text.length).toBeGreaterThan(9_500_000);
    const log = parseRunLog(text);
    const t0 = performance.now();
    const html = renderHtmlReport(log, loadChartAssets());
    const seconds = (performance.now() - t0) / 1000;
    // Before the caps this log gave a report of ~500 MB, or none (RangeError: Invalid string length after a minute).
    expect(seconds).toBeLessThan(5);
    expect(html.length).toBeLessThan(5_000_000);
    const data = JSON.parse(/<script type="application\/json" id="gradguard-data">(.*?)<\/script>/s.exec(html)![1]!) as ChartData;
    expect(data.steps.length).toBeLessThanOrEqual(2000);
    expect(data.layers).toHaveLength(21); // 20 layers and "other layers (max)"
    expect(data.reduced).toEqual({ steps: 10_000, bucket: 10, otherLayers: 10_001 - 20 });
    expect(Math.max(...data.norm[0]!.values.map((v) => v ?? 0))).toBe(1e12); // the one-step spike
    expect(html).toContain('… (1,000,000 characters)');
    expect(html.match(/data-testid="diagnosis"/g)).toHaveLength(200);
    expect(html).toContain('… and 200 more diagnoses (200 critical, 0 warning, 0 info), from step 5000: see the run log.');
  }, 60_000);

  it('ten script injections in every text field: escaped, nothing runs, charts draw, nothing is fetched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-hostile-'));
    const reports = PAYLOADS.map((payload, i) => {
      const html = renderHtmlReport(parseRunLog(hostileRunLogText({ steps: 300, nameChars: 0, spikeAt: 100, payload })), loadChartAssets());
      const body = html.slice(html.indexOf('<body>')).replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
      const tags = [...body.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]!.toLowerCase());
      expect(tags.filter((t) => !BODY_TAGS.has(t)), `payload ${i + 1}`).toEqual([]);
      expect(body.match(/<script/gi), `payload ${i + 1}`).toHaveLength(2); // the chart data and the page's own script
      expect(body).not.toMatch(/<[^>]*\son\w+\s*=/i);
      const path = join(dir, `report-${i + 1}.html`);
      writeFileSync(path, html);
      return { payload, path };
    });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 1800 } });
      const requests: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      for (const { payload, path } of reports) {
        const before = requests.length;
        const r = await open(page, path);
        expect(r.pwned, payload).toBeUndefined();
        expect(r.h1, 'the payload is shown as text').toBe(payload);
        expect(r.painted.every((p) => p > 0.01), payload).toBe(true);
        expect(requests.slice(before), 'nothing but the page itself').toEqual([pathToFileURL(path).href]);
      }
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('the Content-Security-Policy lets the charts draw and blocks script that got into the page anyway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-csp-'));
    const html = renderHtmlReport(guardedRun, loadChartAssets());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; style-src 'sha256-[A-Za-z0-9+/]{43}='; img-src data:;/);
    expect(csp).not.toContain('unsafe');
    // As if an escaping bug let markup through: an inline script, an event handler, a javascript: link, a remote image.
    const injected = html.replace(
      '<div id="charts">',
      `<script>window.__pwned='inline'</script><img src="x.png" onerror="window.__pwned='onerror'">` +
        `<a id="pwn" href="javascript:window.__pwned='href'">x</a><img src="https://evil.example/t.gif"><div id="charts">`,
    );
    const path = join(dir, 'injected.html');
    writeFileSync(path, injected);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 1800 } });
      // A request the policy refuses is reported as one that failed with "csp": it never reached the network.
      const finished: string[] = [];
      const refused: string[] = [];
      context.on('requestfinished', (r) => finished.push(r.url()));
      context.on('requestfailed', (r) => refused.push(`${r.failure()?.errorText} ${r.url()}`));
      const page = await context.newPage();
      const r = await open(page, path);
      await page.click('#pwn');
      await page.waitForTimeout(100);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(r.pwned).toBeUndefined();
      expect(r.charts).toBe(4);
      for (const p of r.painted) expect(p, 'each chart has lines and axes drawn').toBeGreaterThan(0.01);
      expect(finished).toEqual([pathToFileURL(path).href]);
      expect(refused.sort()).toEqual([`csp ${pathToFileURL(join(dir, 'x.png')).href}`, 'csp https://evil.example/t.gif']);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
