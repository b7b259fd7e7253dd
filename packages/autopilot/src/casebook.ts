import { type Diagnosis, createMonitor } from '@gradguard/core';
import { watchTraining } from '@gradguard/mitigations';
import {
  type Case,
  type CaseChange,
  type CaseFamily,
  type CaseWithTruth,
  type SeedTruth,
  CASEBOOK,
  applyChange,
  createRandom,
  runCase,
} from '@gradguard/models';

/**
 * Which diagnosed problems name each failure family. Strings, not core's `Problem` union, so that problems a newer
 * core adds ('saturation') count without a release of this table; a NaN seen by the user is always named rightly by
 * 'non-finite' (see `rightProblems`).
 */
export const FAMILY_PROBLEMS: Readonly<Record<Exclude<CaseFamily, 'healthy'>, readonly string[]>> = {
  exploding: ['exploding-gradient', 'non-finite', 'loss-divergence', 'gradient-spike', 'weight-growth', 'recurrent-instability'],
  vanishing: ['vanishing-gradient', 'dying-relu', 'saturation', 'recurrent-instability'],
};

/** A diagnosis counts (for detection and as a false alarm) at warning or critical severity, at onset or escalation. */
export function isSerious(d: Pick<Diagnosis, 'severity' | 'phase'>): boolean {
  return d.severity !== 'info' && d.phase !== 'recovery';
}

/** The problems that correctly name a broken case's failure on a seed: its family's, plus 'non-finite' when that seed's run turned NaN. */
export function rightProblems(family: CaseFamily, truth: Pick<SeedTruth, 'nanStep'>): readonly string[] {
  if (family === 'healthy') return [];
  return truth.nanStep !== null ? [...new Set([...FAMILY_PROBLEMS[family], 'non-finite'])] : FAMILY_PROBLEMS[family];
}

/** Whether a diagnosis states a learning rate too high as the root cause (evidence `rootCause: 'learning-rate'`). */
function statesRate(d: Pick<Diagnosis, 'evidence'>): boolean {
  return d.evidence.rootCause === 'learning-rate';
}

/**
 * Whether a diagnosis names a broken case's failure rightly: its problem is one of the family's (`rightProblems`), or
 * it states the root cause of the exploding family — a learning rate too high (evidence `rootCause: 'learning-rate'`)
 * — whatever symptom it is named by. Issue 13 asks for exactly that: a too-high rate that pins units in their flat
 * tails is "saturation" with the cause "learning rate too high", not a vanishing-gradient verdict.
 */
export function namesFailure(family: CaseFamily, truth: Pick<SeedTruth, 'nanStep'>, d: Pick<Diagnosis, 'problem' | 'evidence'>): boolean {
  if (family === 'healthy') return false;
  return rightProblems(family, truth).includes(d.problem) || (family === 'exploding' && statesRate(d));
}

/**
 * The step (1-based, as the loss curve counts) a user first sees the failure: the step the loss doubled or turned
 * non-finite; for a run that never learns (no such step), step 1 — the failure is there from the first update.
 */
export function symptomStep(truth: Pick<SeedTruth, 'divergenceStep'>): number {
  return truth.divergenceStep ?? 1;
}

/** A repair the casebook's autopilot and the random-fix baseline draw from: a change, and the families it fits. */
export interface CaseRepair {
  readonly name: string;
  readonly change: CaseChange;
  readonly fits: readonly Exclude<CaseFamily, 'healthy'>[];
}

/**
 * The repair list, in the order the autopilot tries them for a family (cheapest, least invasive first, as the
 * sources' accepted answers order them): data scale, then the optimizer's step (clip, lower rate, Adam), then the
 * model (bounded recurrent activation, ReLU/He, output activation, batch normalization).
 */
export const CASE_REPAIRS: readonly CaseRepair[] = [
  { name: 'normalize-data', change: { kind: 'normalize-data' }, fits: ['exploding', 'vanishing'] },
  { name: 'clipnorm-1', change: { kind: 'clipnorm', value: 1 }, fits: ['exploding'] },
  { name: 'lower-learning-rate', change: { kind: 'learning-rate', factor: 0.1 }, fits: ['exploding'] },
  { name: 'recurrent-tanh', change: { kind: 'activation', from: 'relu', to: 'tanh' }, fits: ['exploding'] },
  { name: 'adam', change: { kind: 'optimizer', optimizer: { name: 'adam', byName: true } }, fits: ['exploding', 'vanishing'] },
  { name: 'relu-he', change: { kind: 'activation', to: 'relu', initializer: 'he_uniform' }, fits: ['vanishing'] },
  { name: 'softmax-output', change: { kind: 'output-activation', to: 'softmax' }, fits: ['vanishing', 'exploding'] },
  { name: 'batch-norm', change: { kind: 'batch-norm' }, fits: ['vanishing', 'exploding'] },
];

/** The repairs that change this case (the others would retrain the same run), with the changed case. */
export function applicableRepairs<C extends Case>(c: C): { repair: CaseRepair; changed: C }[] {
  const out: { repair: CaseRepair; changed: C }[] = [];
  for (const repair of CASE_REPAIRS) {
    // 'recurrent-tanh' is for recurrent layers only: a ReLU MLP keeps its ReLUs.
    if (repair.name === 'recurrent-tanh' && !c.layers.some((l) => (l.type === 'lstm' || l.type === 'gru' || l.type === 'simpleRNN') && l.activation === 'relu')) continue;
    if (repair.name === 'softmax-output' && c.loss !== 'categoricalCrossentropy') continue;
    const changed = applyChange(c, repair.change);
    if (changed) out.push({ repair, changed });
  }
  return out;
}

/** Optimizers whose step is normalized by a running gradient scale (Adam, RMSProp, Adagrad, Adamax, Adadelta). */
const ADAPTIVE = new Set(['adam', 'rmsprop', 'adagrad', 'adamax', 'adadelta']);

/**
 * The autopilot's repair for a diagnosed family: the repair named by the root cause a diagnosis stated (`cause`, from
 * `statedCause`), when it applies — after scaling the data, when that applies; else the first applicable repair fitting the family, in `CASE_REPAIRS` order,
 * with two rules that read the model before the symptom:
 * 1. An output activation that does not fit the loss (a ReLU or linear output under categorical cross-entropy) is
 *    repaired first, whatever the symptom: AUTOTRAINER's "improper activation" rule (Zhang et al., ICSE 2021) — the
 *    loss's log of a zero output turns NaN or starves the gradient, and no change to the step can fix that.
 * 2. Under an adaptive optimizer, gradient clipping is not tried for a blow-up: Adam's and RMSProp's step is the
 *    gradient divided by its own running scale, so its size is about the learning rate whatever the gradient's norm
 *    (Kingma & Ba 2015, §2.1: |Δθ| ≲ α); clipping rescales numerator and denominator alike. The rate itself is lowered.
 */
export function chooseCaseRepair<C extends Case>(
  c: C,
  family: Exclude<CaseFamily, 'healthy'>,
  cause?: string,
): { repair: CaseRepair; changed: C } | undefined {
  const fitting = applicableRepairs(c).filter((a) => a.repair.fits.includes(family));
  // Inputs on a raw scale come first even when the diagnosis names the rate: a rate too high for unscaled inputs is the
  // same defect, and the sources fix it by scaling (measured: on the unscaled regression and Boston housing cases the
  // rate lowered 10× repaired 0 of 6 runs, normalizing the data 6 of 6).
  const scale = fitting.find((a) => a.repair.name === 'normalize-data');
  const stated = cause === undefined ? undefined : fitting.find((a) => a.repair.name === cause);
  if (stated) return scale ?? stated;
  const output = fitting.find((a) => a.repair.name === 'softmax-output');
  if (output) return output;
  const adaptive = ADAPTIVE.has(c.optimizer.name);
  return fitting.find((a) => !(adaptive && family === 'exploding' && (a.repair.change.kind === 'clipnorm' || a.repair.change.kind === 'clipvalue')));
}

/** One (case, seed, arm) run as plain data, so a worker pool can run it anywhere: `runCaseJob(job)`. */
export type CaseJob =
  | { readonly case: string; readonly seed: number; readonly arm: 'watch' }
  /** The autopilot: watch, then retrain with the first applicable repair (in `CASE_REPAIRS` order) fitting the diagnosed family. */
  | { readonly case: string; readonly seed: number; readonly arm: 'autopilot' }
  /**
   * The baseline: one repair drawn uniformly from the applicable repairs, seeded by `draw` (and the case and seed), or,
   * with `option`, the applicable repair at that index — `casebookJobs` runs every option, so the baseline's rate is
   * its exact expectation rather than one draw's luck.
   */
  | { readonly case: string; readonly seed: number; readonly arm: 'random-fix'; readonly draw: number }
  | { readonly case: string; readonly seed: number; readonly arm: 'random-fix'; readonly option: number }
  /** One of the case's accepted fixes, by index: does the field's fix reach the criterion here? */
  | { readonly case: string; readonly seed: number; readonly arm: 'accepted-fix'; readonly fix: number };

/** What a job returns (plain JSON). */
export interface CaseJobResult {
  readonly case: string;
  readonly seed: number;
  readonly arm: CaseJob['arm'];
  /** The watched run's problems at warning/critical, in order of first report ('watch' and 'autopilot'). */
  readonly problems: readonly string[];
  /** 1-based step of the first serious diagnosis of any kind, and of the right family, or null. */
  readonly firstSeriousStep: number | null;
  readonly firstRightStep: number | null;
  /** The repair tried ('autopilot', 'random-fix', 'accepted-fix'), or null when none was (nothing detected, or none applies). */
  readonly repair: string | null;
  /** The run judged: the repaired run when a repair was tried, else the watched run. */
  readonly outcome: SeedTruth['outcome'];
  readonly metric: number;
  readonly passed: boolean;
  readonly durationMs: number;
}

function findCase(name: string): CaseWithTruth {
  const c = CASEBOOK.find((x) => x.name === name);
  if (!c) throw new Error(`runCaseJob: no casebook case named ${JSON.stringify(name)}; see CASEBOOK for the names.`);
  return c;
}

/** Trains a case watched by a monitor (and clipped when its optimizer says clipnorm/clipvalue, as Keras does). */
async function watchCase(c: Case, seed: number): Promise<{ diagnoses: readonly Diagnosis[]; run: Awaited<ReturnType<typeof runCase>> }> {
  const monitor = createMonitor();
  let watched: ReturnType<typeof watchTraining> | undefined;
  const run = await runCase(c, {
    seed,
    optimizerFactory: (optimizer, { model }) => {
      watched = watchTraining(optimizer, {
        model,
        monitor,
        print: 'none',
        recurrent: c.layers.some((l) => l.type === 'lstm' || l.type === 'gru' || l.type === 'simpleRNN'),
        ...(c.optimizer.clipnorm !== undefined ? { clipnorm: c.optimizer.clipnorm } : {}),
        ...(c.optimizer.clipvalue !== undefined ? { clipvalue: c.optimizer.clipvalue } : {}),
      });
      return watched.optimizer;
    },
  });
  await watched?.end();
  return { diagnoses: [...monitor.diagnoses], run };
}

/**
 * The repair a diagnosis names as the root cause, when one does: the learning rate (the loss-divergence rule that saw
 * the weights multiply with the loss: evidence `rootCause: 'learning-rate'`) or the initialization (weights that
 * started with one sign: `detectInitialization`, fixed as its source fixed it, ReLU with he_uniform). Symptom rules
 * (a norm above its bound, a spike) name no cause: the family's order decides for them.
 */
export function statedCause(diagnoses: readonly Diagnosis[]): string | undefined {
  for (const d of diagnoses) {
    if (!isSerious(d)) continue;
    if (statesRate(d)) return 'lower-learning-rate';
    if (d.detector === 'detectInitialization') return 'relu-he';
  }
  return undefined;
}

function familyOf(serious: readonly Diagnosis[]): Exclude<CaseFamily, 'healthy'> | null {
  for (const d of serious) {
    if (statesRate(d) || d.problem === 'non-finite' || FAMILY_PROBLEMS.exploding.includes(d.problem)) return 'exploding';
    if (FAMILY_PROBLEMS.vanishing.includes(d.problem)) return 'vanishing';
  }
  return null;
}

/**
 * Runs one job. `watch`: the case as its source wrote it, guarded watch-only. `autopilot`: the same, then — when a
 * serious diagnosis names a family — the repair `chooseCaseRepair` picks, retrained from the same seed. `random-fix`:
 * a repair from the same list regardless of any diagnosis (ICST'23's baseline): drawn at random, or the one at `option`. `accepted-fix`: the
 * case's own accepted fix.
 */
export async function runCaseJob(job: CaseJob): Promise<CaseJobResult> {
  const started = performance.now();
  const c = findCase(job.case);
  const truth = c.truth.find((t) => t.seed === job.seed) ?? c.truth[0]!;
  const base = { case: c.name, seed: job.seed, arm: job.arm };
  let problems: string[] = [];
  let firstSeriousStep: number | null = null;
  let firstRightStep: number | null = null;
  let target: Case | undefined;
  let repair: string | null = null;
  if (job.arm === 'watch' || job.arm === 'autopilot') {
    const { diagnoses, run } = await watchCase(c, job.seed);
    const serious = diagnoses.filter(isSerious);
    problems = [...new Set(serious.map((d) => d.problem as string))];
    // Diagnosis.step counts updates from 0; the loss curve's step t is update t − 1.
    firstSeriousStep = serious.length > 0 ? serious[0]!.step + 1 : null;
    const r = serious.find((d) => namesFailure(c.family, truth, d));
    firstRightStep = r ? r.step + 1 : null;
    if (job.arm === 'watch') {
      return { ...base, problems, firstSeriousStep, firstRightStep, repair: null, outcome: run.outcome, metric: run.metric, passed: run.passed, durationMs: performance.now() - started };
    }
    const family = familyOf(serious);
    const pick = family ? chooseCaseRepair(c, family, statedCause(diagnoses)) : undefined;
    if (!pick) {
      return { ...base, problems, firstSeriousStep, firstRightStep, repair: null, outcome: run.outcome, metric: run.metric, passed: run.passed, durationMs: performance.now() - started };
    }
    target = pick.changed;
    repair = pick.repair.name;
  } else if (job.arm === 'random-fix') {
    const options = applicableRepairs(c);
    let index: number;
    if ('option' in job) {
      if (!Number.isInteger(job.option) || job.option < 0 || job.option >= options.length) {
        throw new Error(`runCaseJob: ${c.name} has ${options.length} applicable repairs; option ${job.option} does not exist (use 0 to ${options.length - 1}).`);
      }
      index = job.option;
    } else {
      // The case's name is part of the seed: otherwise every case would draw the same number for the same seed.
      index = Math.floor(createRandom(hashName(c.name) ^ (job.draw * 7919 + job.seed))() * options.length);
    }
    const pick = options[Math.min(options.length - 1, index)];
    target = pick?.changed;
    repair = pick?.repair.name ?? null;
  } else {
    const f = c.fixes[job.fix];
    if (!f) throw new Error(`runCaseJob: ${c.name} has ${c.fixes.length} accepted fixes; fix ${job.fix} does not exist.`);
    target = applyChange(c, f.change);
    repair = f.name;
  }
  if (!target) {
    return { ...base, problems, firstSeriousStep, firstRightStep, repair, outcome: truth.outcome, metric: truth.metric, passed: false, durationMs: performance.now() - started };
  }
  const { run } = await watchCase(target, job.seed);
  return { ...base, problems, firstSeriousStep, firstRightStep, repair, outcome: run.outcome, metric: run.metric, passed: run.passed, durationMs: performance.now() - started };
}

/** FNV-1a hash of a name, as a 32-bit seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Every job of a casebook score: for each case and seed, watch; for broken cases also autopilot, the random-fix
 * baseline with every applicable repair (one job each: the baseline's exact expectation), and optionally each
 * accepted fix.
 */
export function casebookJobs(options: { readonly cases?: readonly string[]; readonly seeds?: readonly number[]; readonly acceptedFixes?: boolean } = {}): CaseJob[] {
  const seeds = options.seeds ?? [1, 2, 3];
  const jobs: CaseJob[] = [];
  for (const c of CASEBOOK) {
    if (options.cases && !options.cases.includes(c.name)) continue;
    for (const seed of seeds) {
      if (c.family === 'healthy') {
        jobs.push({ case: c.name, seed, arm: 'watch' });
        continue;
      }
      jobs.push({ case: c.name, seed, arm: 'autopilot' });
      // The random-fix baseline over every applicable repair: its rate is the expectation of a uniform draw.
      applicableRepairs(c).forEach((_, option) => jobs.push({ case: c.name, seed, arm: 'random-fix', option }));
      if (options.acceptedFixes ?? false) c.fixes.forEach((_, fix) => jobs.push({ case: c.name, seed, arm: 'accepted-fix', fix }));
    }
  }
  return jobs;
}

/** One case's row of the score. Rates are over the seeds on which the case's ground truth shows the failure (or health). */
export interface CaseScore {
  readonly case: string;
  readonly family: CaseFamily;
  readonly seeds: number;
  /** Broken: seeds with a serious right-family diagnosis within `window` steps of the symptom / seeds that failed. */
  readonly detected: number;
  readonly broken: number;
  /** Healthy: seeds with any serious diagnosis / seeds on which the case learned. */
  readonly falseAlarms: number;
  readonly healthy: number;
  /** Mean steps from the symptom to the first right diagnosis over detected seeds (negative: before the loss showed it). */
  readonly meanDelay: number | null;
  /**
   * Broken seeds whose autopilot repair reached the criterion; for the random fix, the expected number: per seed, the
   * share of its random-fix runs (every applicable repair, or one draw) that reached it.
   */
  readonly autopilotRepaired: number;
  readonly randomRepaired: number;
  readonly autopilotRepairs: readonly (string | null)[];
  readonly autotrainer: string | null;
}

export interface CasebookScore {
  readonly rows: readonly CaseScore[];
  readonly detectionRate: number;
  readonly falseAlarmRate: number;
  readonly meanDelay: number | null;
  readonly autopilotRepairRate: number;
  readonly randomRepairRate: number;
  /** Broken (case, seed) pairs and healthy (case, seed) pairs scored. */
  readonly brokenRuns: number;
  readonly healthyRuns: number;
}

/**
 * Scores job results: detection (a serious diagnosis of the right family within `window` steps after the symptom),
 * false alarms (any serious diagnosis on a healthy run), time to the first right diagnosis, and repair rates of the
 * autopilot and the random-fix baseline. A seed counts as broken or healthy by the measured ground truth of that
 * seed, not by the case's label, so a seed on which a "broken" case happened to learn is left out of both.
 */
export function scoreCasebook(results: readonly CaseJobResult[], cases: readonly CaseWithTruth[] = CASEBOOK, window = 5): CasebookScore {
  const rows: CaseScore[] = [];
  for (const c of cases) {
    const mine = results.filter((r) => r.case === c.name);
    if (mine.length === 0) continue;
    const seeds = [...new Set(mine.map((r) => r.seed))];
    let detected = 0;
    let broken = 0;
    let falseAlarms = 0;
    let healthy = 0;
    let autopilotRepaired = 0;
    let randomRepaired = 0;
    const delays: number[] = [];
    const autopilotRepairs: (string | null)[] = [];
    for (const seed of seeds) {
      const truth = c.truth.find((t) => t.seed === seed);
      if (!truth) continue;
      const watched = mine.find((r) => r.seed === seed && (r.arm === 'watch' || r.arm === 'autopilot'));
      if (c.family === 'healthy') {
        if (truth.outcome !== 'learns' || !watched) continue;
        healthy++;
        if (watched.firstSeriousStep !== null) falseAlarms++;
        continue;
      }
      if (truth.outcome === 'learns') continue;
      broken++;
      const symptom = symptomStep(truth);
      if (watched && watched.firstRightStep !== null && watched.firstRightStep <= symptom + window) {
        detected++;
        delays.push(watched.firstRightStep - symptom);
      }
      const auto = mine.find((r) => r.seed === seed && r.arm === 'autopilot');
      if (auto) {
        autopilotRepairs.push(auto.repair);
        if (auto.repair !== null && auto.passed) autopilotRepaired++;
      }
      const rand = mine.filter((r) => r.seed === seed && r.arm === 'random-fix');
      if (rand.length > 0) randomRepaired += rand.filter((r) => r.repair !== null && r.passed).length / rand.length;
    }
    rows.push({
      case: c.name,
      family: c.family,
      seeds: seeds.length,
      detected,
      broken,
      falseAlarms,
      healthy,
      meanDelay: delays.length > 0 ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
      autopilotRepaired,
      randomRepaired,
      autopilotRepairs,
      autotrainer: c.source.autotrainer ?? null,
    });
  }
  const sum = (f: (r: CaseScore) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const brokenRuns = sum((r) => r.broken);
  const healthyRuns = sum((r) => r.healthy);
  const allDelays = rows.flatMap((r) => (r.meanDelay === null ? [] : [r.meanDelay * r.detected]));
  const detectedRuns = sum((r) => r.detected);
  return {
    rows,
    detectionRate: brokenRuns === 0 ? 1 : detectedRuns / brokenRuns,
    falseAlarmRate: healthyRuns === 0 ? 0 : sum((r) => r.falseAlarms) / healthyRuns,
    meanDelay: detectedRuns === 0 ? null : allDelays.reduce((a, b) => a + b, 0) / detectedRuns,
    autopilotRepairRate: brokenRuns === 0 ? 1 : sum((r) => r.autopilotRepaired) / brokenRuns,
    randomRepairRate: brokenRuns === 0 ? 1 : sum((r) => r.randomRepaired) / brokenRuns,
    brokenRuns,
    healthyRuns,
  };
}

