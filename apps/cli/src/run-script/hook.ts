import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, relative, resolve } from 'node:path';
import type { LayerLike } from '@gradguard/core';
import type { RunRecorderLike, WatchedTraining } from '@gradguard/mitigations';
import type { MitigationFlags } from '../mitigation-flags';
import { type RunFacts, classifyScript, scriptOutcomeLine } from '../outcome';
import { type ScriptTfjs, redirectTfjsToScript } from './tfjs-redirect';

/** What `gradguard run` hands the instrumented process (in the GRADGUARD_RUN environment variable, as JSON). */
export interface RunSettings {
  /** Directory for the run logs (one JSONL file per guarded optimizer). */
  readonly out: string;
  /** The mitigation flags of `train`; none: watch only. */
  readonly flags: MitigationFlags;
  /** A script that exits 0 exits with gradguard's verdict instead (`classifyScript`). Default false. */
  readonly strict?: boolean;
}

export const SETTINGS_ENV = 'GRADGUARD_RUN';
const DEFAULTS: RunSettings = { out: 'gradguard-runs', flags: {}, strict: false };

/** The settings from the environment, or the defaults of the plain `node --import gradguard/register` form. */
export function readSettings(raw: string | undefined): RunSettings {
  if (raw === undefined || raw === '') return DEFAULTS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${SETTINGS_ENV} is not JSON (${raw.slice(0, 60)}): unset it, or let \`gradguard run\` set it.`);
  }
  const s = parsed as Partial<RunSettings>;
  return { out: typeof s.out === 'string' && s.out ? s.out : DEFAULTS.out, flags: typeof s.flags === 'object' && s.flags ? s.flags : {}, strict: s.strict === true };
}

/** Where the script's own tfjs lives: the tfjs-core and tfjs-layers files it will load (through tfjs, tfjs-node or directly). */
export function resolveTfjs(script: string): ScriptTfjs {
  const attempt = (from: string, id: string): string | undefined => {
    try {
      return createRequire(from).resolve(id);
    } catch {
      return undefined;
    }
  };
  for (const umbrella of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs']) {
    const u = attempt(script, umbrella);
    if (!u) continue;
    // tfjs-node depends on tfjs, which depends on tfjs-layers and tfjs-core: follow the chain the script's require takes.
    const tfjs = umbrella === '@tensorflow/tfjs' ? u : (attempt(u, '@tensorflow/tfjs') ?? u);
    const layers = attempt(tfjs, '@tensorflow/tfjs-layers');
    const core = layers && attempt(layers, '@tensorflow/tfjs-core');
    if (layers && core) return { core: realpathSync(core), layers: realpathSync(layers), umbrella: realpathSync(tfjs) };
  }
  const layers = attempt(script, '@tensorflow/tfjs-layers');
  const core = attempt(script, '@tensorflow/tfjs-core');
  if (layers && core) return { core: realpathSync(core), layers: realpathSync(layers) };
  throw new Error(
    `gradguard run: ${script} cannot load TensorFlow.js (no @tensorflow/tfjs, tfjs-node or tfjs-layers resolves from its directory). ` +
      'Install it beside the script (npm install @tensorflow/tfjs), or run a script that trains a tfjs model.',
  );
}

interface RunEntry {
  label: string;
  path: string;
  watched: WatchedTraining;
  /** The model the optimizer trains, once known (from `compile`, or learned from the loss). */
  readonly model: () => LayerLike | undefined;
  readonly recorder: { readonly started: boolean; endNow(status: 'completed' | 'stopped' | 'failed', reason?: string): Promise<void> };
}

/**
 * Instruments the tfjs instance the script about to run will load: every optimizer guarded at its first step
 * (`instrumentTraining`), with the mitigations of the flags, a JSONL run log per optimizer (created at its first step)
 * and the console view (diagnoses as they happen) on stderr. At the end prints each run's summary and the commands to
 * read its log. The script's stdout and exit code are its own.
 */
export async function instrumentScript(scriptArg: string | undefined, settings: RunSettings): Promise<void> {
  if (!scriptArg) throw new Error('gradguard/register: no script to run. Use it as node --import gradguard/register train.js.');
  const script = resolve(scriptArg);
  const tfjs = resolveTfjs(script);
  // One tfjs-core per process: gradguard's own import of it must be the very file the script loads. When gradguard
  // runs from elsewhere (npx, a global install) with a copy of its own, its packages are pointed at the script's.
  const self = createRequire(import.meta.url);
  const ours = realpathSync(createRequire(self.resolve('@gradguard/core')).resolve('@tensorflow/tfjs-core'));
  if (ours !== tfjs.core) {
    const peers = (self('@gradguard/core/package.json') as { peerDependencies: Record<string, string> }).peerDependencies;
    redirectTfjsToScript(script, tfjs, import.meta.url, peers['@tensorflow/tfjs-core']!);
  }
  const req = createRequire(script);
  const core = req(tfjs.core) as { Optimizer: { prototype: object }; getBackend(): string };
  const layers = req(tfjs.layers) as { LayersModel: { prototype: object }; Sequential: { prototype: object } };
  const { instrumentTraining, watchTraining } = await import('@gradguard/mitigations');
  // tfjs-core is CommonJS: every copy that loaded, through require or import, is in require's cache.
  if (ours !== tfjs.core && req.cache[ours]) {
    throw new Error(`gradguard run: gradguard's own @tensorflow/tfjs-core (${ours}) loaded beside the script's (${tfjs.core}). Install gradguard into the script's project (npm install --save-dev gradguard).`);
  }
  const { createRecorder } = await import('@gradguard/reporter');
  const { createConsoleSink, createJsonlFileSink } = await import('@gradguard/reporter/node');
  const { buildMitigations } = await import('../mitigation-flags');

  const out = resolve(settings.out);
  const stem = basename(script, extname(script));
  const entries: RunEntry[] = [];
  const usedPaths = new Set<string>();
  const logPath = (label: string): string => {
    const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '_');
    for (let n = 1; ; n++) {
      const p = join(out, `${stem}-${safe}${n > 1 ? `-${n}` : ''}.jsonl`);
      if (!usedPaths.has(p)) return usedPaths.add(p), p;
    }
  };
  const description = buildMitigations(settings.flags).description;

  const instrumentation = instrumentTraining(
    { Optimizer: core.Optimizer, LayersModel: layers.LayersModel, Sequential: layers.Sequential },
    {
      watch(optimizer, model) {
        const m = buildMitigations(settings.flags); // fresh transforms and rate control for every optimizer
        const index = entries.length + 1;
        let real: ReturnType<typeof createRecorder> | undefined;
        const entry: RunEntry = {
          label: `optimizer${index}`,
          path: '',
          watched: undefined as unknown as WatchedTraining, // set below, before any step
          model,
          recorder: {
            get started() {
              return real !== undefined;
            },
            endNow: async (status, reason) => {
              await real?.end(status, reason ? { reason } : {});
            },
          },
        };
        const open = (): ReturnType<typeof createRecorder> => {
          if (real) return real;
          const mm = model();
          const label = mm?.name ?? `optimizer${index}`;
          const path = logPath(label);
          mkdirSync(out, { recursive: true });
          const sinks = [createJsonlFileSink(path), createConsoleSink({ label, layerTable: false })];
          real = createRecorder({
            name: basename(script),
            sinks,
            ...(mm ? { model: mm as never } : {}),
            backend: core.getBackend(),
            config: { script: relative(process.cwd(), script) || script, optimizer: optimizer.getClassName(), ...optimizer.getConfig(), transform: m.description },
          });
          entry.label = label;
          entry.path = path;
          return real;
        };
        const recorder = {
          watch(source: Parameters<RunRecorderLike['watch']>[0]) {
            const offStep = source.onStep((s) => open().step(s));
            const offDiagnosis = source.monitor?.subscribe((d) => open().diagnosis(d));
            return () => {
              offStep();
              offDiagnosis?.();
            };
          },
          async end(status: 'completed' | 'stopped' | 'failed', details?: { reason?: string; finalLoss?: number | null }) {
            await real?.end(status, details);
          },
        };
        const watched = watchTraining(optimizer, {
          recorder,
          ...(model() ? { model: model()! } : {}),
          ...(m.transform ? { transform: m.transform } : {}),
          ...(m.learningRate ? { learningRate: m.learningRate } : {}),
          ...(m.rollback ? { rollback: true } : {}),
        });
        entry.watched = watched;
        entries.push(entry);
        return watched;
      },
    },
  );

  let ended = false;
  const finish = (code: number, sync: boolean): Promise<void> | void => {
    if (ended) return;
    ended = true;
    instrumentation.restore();
    const reason = code === 0 ? undefined : `the script exited with code ${code}`;
    // On a normal end every step is read back first; on process.exit() or a crash only what is already known is
    // written (the end record goes out synchronously: the JSONL sink writes each line with one write).
    const ends = entries.map((e) =>
      sync ? e.recorder.endNow(code === 0 ? 'completed' : 'failed', reason) : e.watched.end(code === 0 ? 'completed' : 'failed', reason ? { reason } : {}).catch(() => e.recorder.endNow('failed', reason)),
    );
    const print = (): void => {
      const started = entries.filter((e) => e.recorder.started);
      const verdict = classifyScript(code, started.map((e) => factsOf(e, code, description !== 'none')), settings.strict === true);
      const last = started.length > 0 ? `${scriptOutcomeLine(verdict.outcome, code, verdict.code, settings.strict === true)}\n` : '';
      process.stderr.write(summary(started, description) + last);
      // In an 'exit' listener too, Node exits with the exitCode set here.
      if (verdict.code !== code) process.exitCode = verdict.code;
    };
    if (sync) {
      print();
      return;
    }
    return Promise.all(ends).then(print);
  };
  process.on('beforeExit', (code) => {
    if (!ended) void finish(code, false);
  });
  process.on('exit', (code) => {
    finish(code, true);
  });
}

/** What `classifyScript` judges one watched run by; the weights are read once, at the end. */
function factsOf(e: RunEntry, scriptCode: number, guarded: boolean): RunFacts {
  const w = e.watched;
  return {
    completed: scriptCode === 0 && w.stopReason === undefined,
    weightsFinite: weightsFinite(e.model()),
    finalLoss: w.optimizer.latest?.loss ?? null,
    firstNonFiniteStep: w.firstNonFiniteStep,
    guarded,
    problems: w.monitor.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info').length,
  };
}

/** Whether every weight of `model` is finite; true when there is no model or its weights were disposed (nothing to judge). */
function weightsFinite(model: LayerLike | undefined): boolean {
  try {
    return (model?.weights ?? []).every((w) => {
      // Once, after training, possibly inside an 'exit' listener where nothing can be awaited: a blocking read is the only kind.
      // eslint-disable-next-line no-restricted-properties
      const values = (w.read() as { dataSync(): ArrayLike<number> }).dataSync();
      for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
      return true;
    });
  } catch {
    return true;
  }
}

function summary(entries: readonly RunEntry[], mitigations: string): string {
  if (entries.length === 0) {
    return '\ngradguard: no training step was seen (no model.fit, fitDataset, trainOnBatch or optimizer.minimize ran); no run log written.\n';
  }
  const lines = [`\ngradguard: ${entries.length} run${entries.length === 1 ? '' : 's'} watched (mitigations: ${mitigations})`];
  for (const e of entries) {
    const w = e.watched;
    const problems = [...new Set(w.monitor.diagnoses.filter((d) => d.phase !== 'recovery' && d.severity !== 'info').map((d) => `${d.severity} ${d.problem}${d.layer ? ` (${d.layer})` : ''}`))];
    lines.push(
      `  ${e.label} (${w.optimizer.inner.getClassName()}): ${w.optimizer.step} steps` +
        (w.firstNonFiniteStep !== null ? `, non-finite from step ${w.firstNonFiniteStep}` : '') +
        (w.optimizer.skipped > 0 ? `, ${w.optimizer.skipped} skipped` : '') +
        `; ${problems.length ? problems.join(', ') : 'no problems diagnosed'}`,
      `    log: ${display(e.path)}`,
    );
  }
  lines.push('next:');
  for (const e of entries) {
    const p = display(e.path);
    lines.push(`  gradguard diagnose ${p}`, `  gradguard report ${p} -o ${p.replace(/\.jsonl$/, '.html')}`);
  }
  return `${lines.join('\n')}\n`;
}

function display(path: string): string {
  const r = relative(process.cwd(), path);
  const shown = r && !r.startsWith('..') && existsSync(path) ? r : path;
  return /[\s'"$`\\]/.test(shown) ? `'${shown.replace(/'/g, "'\\''")}'` : shown;
}
