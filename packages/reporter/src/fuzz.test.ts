import { type RunLog, RunLogError, encodeRunLogRecord, parseRunLog } from '@gradguard/core/run-log';
import { createMonitor } from '@gradguard/core';
import { createRandom } from '@gradguard/models';
import { describe, expect, it } from 'vitest';
import { chartData } from './chart-data';
import { escapeControlChars } from './format';
import { renderHtmlReport } from './html-report';
import { loadChartAssets } from './node';
import { toStepStatistics } from './step-statistics';
import { findDivergence, summarizeRun } from './summary';
import { guardedRun, unguardedRun } from './test-runs';

const WEIRD = ['NaN', 'null', '-1', '1e309', '"x"', '{}', '[]', 'true', '"\\u001b[2J"', '1.5', '0', '"' + 'a'.repeat(300) + '"'];

/** One mutation of a valid log's text: a byte flipped, a line cut, duplicated, swapped or dropped, a value replaced. */
function mutate(text: string, rnd: () => number): string {
  const lines = text.split('\n');
  const pick = (): number => Math.floor(rnd() * lines.length);
  switch (Math.floor(rnd() * 7)) {
    case 0: {
      const i = Math.floor(rnd() * text.length);
      return text.slice(0, i) + String.fromCharCode(Math.floor(rnd() * 128)) + text.slice(i + 1);
    }
    case 1: {
      const i = pick();
      lines[i] = lines[i]!.slice(0, Math.floor(rnd() * lines[i]!.length));
      return lines.join('\n');
    }
    case 2: {
      const i = pick();
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 3: {
      const i = pick();
      const j = pick();
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 4:
      lines.splice(pick(), 1);
      return lines.join('\n');
    default: {
      // Replace one JSON value (after a colon) with something of the wrong kind or range.
      const i = pick();
      const colons = [...lines[i]!.matchAll(/:/g)].map((m) => m.index!);
      if (colons.length === 0) return lines.join('\n');
      const at = colons[Math.floor(rnd() * colons.length)]! + 1;
      const end = lines[i]!.slice(at).search(/[,}\]]/);
      lines[i] = lines[i]!.slice(0, at) + WEIRD[Math.floor(rnd() * WEIRD.length)] + (end < 0 ? '' : lines[i]!.slice(at + end));
      return lines.join('\n');
    }
  }
}

function textOf(log: RunLog): string {
  return [log.header, ...log.steps, ...log.diagnoses, ...(log.end ? [log.end] : [])].map((r) => encodeRunLogRecord(r)).join('\n');
}

// The in-process form of the fuzzing behind the README's reliability figures: every mutated log is either read (and
// then summarized, replayed through the detectors, charted and rendered) or refused with a RunLogError naming the
// line; nothing else may be thrown, and salvage always keeps at least the valid lines.
describe('run logs under mutation', () => {
  it('600 mutated logs: read or refused with a RunLogError, never a crash; whatever is read renders and replays', () => {
    const assets = loadChartAssets();
    const rnd = createRandom(12345); // seeded: the same mutations on every run, so a failure reproduces
    const tally = { read: 0, refused: 0, salvaged: 0, rendered: 0, crashes: [] as string[] };
    const bases = [textOf(guardedRun), textOf(unguardedRun)];
    for (let k = 0; k < 600; k++) {
      let text = bases[k % 2]!;
      for (let m = 0, n = 1 + Math.floor(rnd() * 3); m < n; m++) text = mutate(text, rnd);
      let log: RunLog | undefined;
      try {
        log = parseRunLog(text);
        tally.read++;
      } catch (e) {
        if (!(e instanceof RunLogError)) tally.crashes.push(`strict #${k}: ${(e as Error).stack}`);
        else tally.refused++;
        try {
          log = parseRunLog(text, { salvage: true });
          tally.salvaged++;
        } catch (s) {
          if (!(s instanceof RunLogError)) tally.crashes.push(`salvage #${k}: ${(s as Error).stack}`);
        }
      }
      if (!log) continue;
      try {
        const summary = summarizeRun(log);
        escapeControlChars(JSON.stringify(summary));
        const monitor = createMonitor();
        for (const s of log.steps) monitor.observe(toStepStatistics(s));
        chartData([log], ['run']);
        findDivergence(log, bases[0] === text ? log : parseRunLog(bases[0]!));
        const html = renderHtmlReport(log, assets);
        expect(html.length).toBeLessThan(5_000_000);
        tally.rendered++;
      } catch (e) {
        tally.crashes.push(`use #${k}: ${(e as Error).stack}`);
      }
    }
    expect(tally.crashes).toEqual([]);
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(tally.read).toBeGreaterThan(50);
    expect(tally.refused).toBeGreaterThan(50);
    expect(tally.rendered).toBe(tally.read + tally.salvaged);
  }, 120_000);
});
