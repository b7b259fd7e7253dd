/** Markdown for the benchmark's results: one section per backend, plus the machine it ran on. */
import { cpus } from 'node:os';
import type { ConfigName } from './configs';
import type { BackendResult } from './measure';
import type { SoakResult } from './soak';
import { judgeTargets } from './targets';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
}

export interface BenchReport {
  readonly machine: Machine;
  readonly startedAt: string;
  readonly rounds: number;
  readonly quick: boolean;
  readonly backends: readonly BackendResult[];
  readonly soak?: readonly SoakResult[];
}

const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : String(x));
const perStep = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function configsOf(b: BackendResult): ConfigName[] {
  const seen: ConfigName[] = [];
  for (const m of b.models) for (const c of m.configs) if (!seen.includes(c.config)) seen.push(c.config);
  return seen;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function machine(): Machine {
  return { cpu: cpus()[0]?.model ?? 'unknown CPU', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` };
}

export function machineLine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.platform}, Node ${m.node}`;
}

export function backendMarkdown(b: BackendResult): string[] {
  const configs = configsOf(b).filter((c) => c !== 'bare');
  const lines = [`### backend ${b.backend} (tfjs ${b.tfjs})`, ''];
  lines.push(row(['model', 'steps × rounds', 'bare ms/step', ...configs]));
  lines.push(row(['---', '---:', '---:', ...configs.map(() => '---:')]));
  for (const m of b.models) {
    const cell = (c: ConfigName): string => {
      const r = m.configs.find((x) => x.config === c);
      return r ? `${ratio(r.ratio)} <sub>${r.ratioLow.toFixed(2)}–${r.ratioHigh.toFixed(2)}</sub>` : '';
    };
    lines.push(row([m.model, `${m.steps} × ${m.rounds}`, m.bareMsPerStep.toFixed(2), ...configs.map(cell)]));
  }
  lines.push('', 'The same runs in process CPU time per step (user + system, all threads): not charged for the time other processes hold the cores, though still moved by their cache and memory traffic:', '');
  lines.push(row(['model', ...configs]));
  lines.push(row(['---', ...configs.map(() => '---:')]));
  for (const m of b.models) {
    const cell = (c: ConfigName): string => {
      const r = m.configs.find((x) => x.config === c);
      return r ? `${ratio(r.cpuRatio)} <sub>${r.cpuRatioLow.toFixed(2)}–${r.cpuRatioHigh.toFixed(2)}</sub>` : '';
    };
    lines.push(row([m.model, ...configs.map(cell)]));
  }
  lines.push('', `Blocking readbacks per step (engine readSync: dataSync/arraySync/bufferSync), with async \`data()\` reads per step in parentheses:`, '');
  const all = configsOf(b);
  lines.push(row(['model', ...all]));
  lines.push(row(['---', ...all.map(() => '---:')]));
  for (const m of b.models) {
    const cell = (c: ConfigName): string => {
      const r = m.configs.find((x) => x.config === c)?.readbacksPerStep;
      return r ? `${perStep(r.blocking)} (${perStep(r.async)})` : '';
    };
    lines.push(row([m.model, ...all.map(cell)]));
  }
  return lines;
}

export function soakMarkdown(results: readonly SoakResult[]): string[] {
  const lines = ['### soak: spirals MLP, chain(skipNonFinite(), clipByGlobalNorm(1)) + rollback, NaN/Inf injected', ''];
  lines.push(row(['backend', 'steps', 'injected', 'skipped', 'rollbacks', 'tensors: settled, peak 1st/2nd half, end', 'end − settled', 'peak growth', 'leaked after dispose', 'logged steps', 'weights finite', 's', 'ok']));
  lines.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---:', '---']));
  for (const s of results) {
    lines.push(row([
      s.backend,
      String(s.steps),
      String(s.injected),
      String(s.skipped),
      String(s.rollbacks),
      `${s.tensors.settled}, ${s.tensors.peakFirstHalf}/${s.tensors.peakSecondHalf}, ${s.tensors.afterSteps}`,
      String(s.growth),
      String(s.peakGrowth),
      String(s.leaked),
      String(s.loggedSteps),
      String(s.weightsFinite),
      s.seconds.toFixed(1),
      s.ok ? 'yes' : `NO${s.error ? `: ${s.error}` : ''}`,
    ]));
  }
  return lines;
}

export function reportMarkdown(r: BenchReport): string {
  const lines = [
    r.backends.length === 0 ? '## gradguard soak check' : `## gradguard training-step cost${r.quick ? ' (quick mode: too few steps and rounds to trust)' : ''}`,
    '',
    machineLine(r.machine),
    '',
  ];
  if (r.backends.length > 0) {
    lines.push(
      'Each cell: median over rounds of (configuration step time / bare step time in the same round); small print: its 95 % confidence interval (order statistics, no distribution assumed; min–max when there are 7 rounds or fewer). ' +
        'Every configuration trains a fresh model with the same seeded weights through `model.fit`, Adam 1e-3; configurations run interleaved in a rotating order.',
      '',
    );
  }
  for (const b of r.backends) lines.push(...backendMarkdown(b), '');
  const verdicts = judgeTargets(r.backends);
  if (verdicts.length > 0) {
    lines.push(
      '### targets (issue 12)',
      '',
      'met: the whole 95 % interval is within the target; missed: the whole interval is above it; undecided: the interval straddles it (this machine cannot tell).',
      '',
      row(['backend', 'model', 'target', 'verdict', 'measured']),
      row(['---', '---', '---', '---', '---']),
      ...verdicts.map((v) => row([v.backend, v.model, v.what, v.verdict, v.detail])),
      '',
    );
  }
  if (r.soak && r.soak.length > 0) lines.push(...soakMarkdown(r.soak), '');
  return lines.join('\n');
}
