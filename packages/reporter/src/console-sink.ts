import { styleText } from 'node:util';
import cliProgress from 'cli-progress';
import type { DiagnosisRecord, EndRecord, HeaderRecord, StepRecord } from '@gradguard/core/run-log/encode';
import { escapeControlChars as esc, formatNumber as fmt, table } from './format';
import { checkRecord } from './check-arguments';
import type { RunSink } from './sink';

export interface ConsoleSinkOptions {
  /** Where to write; default `process.stderr` (stdout stays free for `--json`). */
  readonly stream?: NodeJS.WriteStream;
  /** Steps planned, for the progress bar. */
  readonly totalSteps?: number;
  /** A short name shown before the run, e.g. `unguarded`. */
  readonly label?: string;
  /** Colors; default: when the stream is a TTY and NO_COLOR is unset. */
  readonly color?: boolean;
  /** Print the final per-layer table. Default true. */
  readonly layerTable?: boolean;
}

const ICON: Record<DiagnosisRecord['severity'], string> = { critical: '✖', warning: '▲', info: '•' };

/**
 * The live console view: a progress bar with step, loss, global norm and clip scale (plain lines every tenth of the
 * run when the stream is not a terminal), each diagnosis as it happens with its advice, and at the end a per-layer
 * table of the last step.
 */
export function createConsoleSink(options: ConsoleSinkOptions = {}): RunSink {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const color = options.color ?? (tty && !process.env.NO_COLOR);
  const paint = (style: Parameters<typeof styleText>[0], s: string): string => (color ? styleText(style, s) : s);
  const label = options.label ? `${esc(options.label)}: ` : '';
  const total = options.totalSteps;
  const out = (s: string): void => {
    stream.write(`${s}\n`);
  };
  let bar: cliProgress.SingleBar | undefined;
  let last: StepRecord | undefined;
  let header: HeaderRecord | undefined;
  const every = total ? Math.max(1, Math.round(total / 10)) : 50;

  const line = (s: StepRecord): string =>
    `loss ${s.loss === null ? '-' : fmt(s.loss)}  ‖g‖ ${fmt(s.preClipNorm)}` +
    (s.scale !== 1 ? `  clip ×${fmt(s.scale)}` : '') +
    (s.skipped ? '  skipped' : '') +
    (s.nonFinite > 0 ? `  non-finite ${s.nonFinite}` : '');

  const print = (s: string): void => {
    if (bar) {
      // Keep the bar as the last line: clear it, print above it, redraw.
      stream.write('\r\x1b[2K');
      out(s);
      bar.render();
    } else out(s);
  };

  return {
    header(h) {
      checkRecord('consoleSink.header', 'header', h);
      header = h;
      // Names come from whoever wrote the run: escaped, so only our own styles reach the terminal.
      const m = h.model ? `${esc(h.model.name)} (${h.model.params.toLocaleString('en-US')} params)` : 'training';
      out(paint('bold', `▶ ${label}${esc(h.name)}`) + paint('dim', ` — ${m}${h.backend ? ` on ${esc(h.backend)}` : ''}`));
      if (tty && total) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `  {bar} {value}/{total}  {stats}`,
            barsize: 24,
            hideCursor: false,
            clearOnComplete: true,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { stats: '' });
      }
    },
    step(s) {
      checkRecord('consoleSink.step', 'step', s);
      last = s;
      if (bar) bar.update(s.step + 1, { stats: line(s) });
      else if ((s.step + 1) % every === 0 || s.step === 0) out(`  step ${String(s.step + 1).padStart(4)}${total ? `/${total}` : ''}  ${line(s)}`);
    },
    diagnosis(d) {
      checkRecord('consoleSink.diagnosis', 'diagnosis', d);
      const where = d.layer ? ` in layer "${esc(d.layer)}"` : '';
      const head = `${ICON[d.severity]} step ${d.step} ${d.severity} ${d.problem}${where} (${d.phase})`;
      const style = d.severity === 'critical' ? 'red' : d.severity === 'warning' ? 'yellow' : 'green';
      const advice = d.advice.slice(0, 2).map((a) => paint('dim', `      try ${a.remedy}: ${esc(a.detail)}`));
      print([`  ${paint(style, head)}`, `      ${esc(d.message)}`, ...advice].join('\n'));
    },
    end(e: EndRecord) {
      checkRecord('consoleSink.end', 'end', e);
      if (bar) {
        bar.stop();
        bar = undefined;
      }
      if (last && options.layerTable !== false && last.layers.length > 0) {
        const rows = last.layers.map((l) => [
          l.layer,
          l.norm,
          l.maxAbs,
          l.nonFinite,
          `${l.size ? ((100 * l.zeros) / l.size).toFixed(1) : '0.0'}%`,
        ]);
        out(paint('dim', `  gradients at step ${last.step}:`));
        out(
          table(['  layer', '‖g‖', 'max|g|', 'non-finite', 'zeros'], rows.map((r) => [`  ${r[0]}`, ...r.slice(1)]))
            .split('\n')
            .join('\n'),
        );
      }
      const status = e.status === 'completed' ? paint('green', 'completed') : paint('red', e.status);
      out(
        `  ${status} after ${e.steps} steps` +
          (e.finalLoss !== undefined && e.finalLoss !== null ? `, final loss ${fmt(e.finalLoss)}` : '') +
          (e.reason ? ` — ${esc(e.reason)}` : '') +
          (header ? '' : ''),
      );
    },
  };
}
