import * as tf from '@tensorflow/tfjs';
import { type Diagnosis, checkModelSupport, inspectModel } from '@gradguard/core';
import { createMemorySink, escapeControlChars, table } from '@gradguard/reporter';
import type { BackendReport } from '../backend';
import { toJson } from '../json';
import { EXIT, UsageError } from '../errors';
import { loadModelFile } from '../load-model';
import { trainRun } from '../run';

export interface DoctorOptions {
  /** Probe steps on random data; 0 or undefined for none. */
  readonly probe?: number;
  /** Time steps for a recurrent input whose length the model leaves open. */
  readonly seqLen: number;
  readonly json?: boolean;
  readonly seed: number;
}

const ICON: Record<Diagnosis['severity'], string> = { critical: '✖', warning: '▲', info: '•' };

/** Random inputs and targets shaped for the model (batch 32, open time dimension set to `seqLen`), seeded. */
function probeData(model: tf.LayersModel, seqLen: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UsageError(`--probe supports models with one input and one output; this one has ${model.inputs.length} and ${model.outputs.length}.`, 'Run doctor without --probe for the static checks.');
  }
  const shape = (s: (number | null)[]) => [32, ...s.slice(1).map((d) => d ?? seqLen)];
  return {
    xs: tf.randomNormal(shape(model.inputs[0]!.shape), 0, 1, 'float32', seed),
    ys: tf.randomNormal(shape(model.outputs[0]!.shape), 0, 1, 'float32', seed + 1),
  };
}

/**
 * Static checks of a saved model, before any training (core's `inspectModel`): the spectral radius of every recurrent
 * kernel, the depth of weighted layers without normalization, each layer's initial weight scale. With `--probe`, a
 * few SGD steps on random data measure each layer's initial gradient norm. It also says which layers cannot train on
 * the active backend (their gradient kernels are missing there; the probe is then skipped). Exit code 1 when a warning
 * or critical problem is found, or a layer cannot train.
 */
export async function doctor(path: string, o: DoctorOptions, backend: BackendReport): Promise<number> {
  const model = await loadModelFile(path);
  const report = await inspectModel(model);
  const support = checkModelSupport(model, backend.name);
  let probe: { step: number; layers: { layer: string; norm: number }[]; globalNorm: number }[] | undefined;
  let probeDiagnoses: readonly Diagnosis[] = [];
  if (o.probe && support.supported) {
    const { xs, ys } = probeData(model, o.seqLen, o.seed);
    const memory = createMemorySink();
    const result = await trainRun({
      label: 'probe',
      name: 'doctor-probe',
      model,
      xs,
      ys,
      optimizer: tf.train.sgd(0.01),
      loss: 'meanSquaredError',
      epochs: o.probe,
      batchSize: 32,
      backend: backend.name,
      config: { probe: o.probe, optimizer: 'sgd', learningRate: 0.01 },
      console: false,
      stopOnNonFinite: true,
      extraSinks: [memory],
      maxSteps: o.probe,
    });
    tf.dispose([xs, ys]);
    probeDiagnoses = result.diagnoses;
    probe = memory.log.steps.map((s) => ({ step: s.step, globalNorm: s.preClipNorm, layers: s.layers.map((l) => ({ layer: l.layer, norm: l.norm })) }));
  }
  model.dispose();
  const all = [...report.diagnoses, ...probeDiagnoses.filter((d) => d.phase !== 'recovery')];
  const problems = all.filter((d) => d.severity !== 'info');
  const healthy = problems.length === 0 && support.supported;
  const code = healthy ? EXIT.healthy : EXIT.problems;
  if (o.json) {
    process.stdout.write(toJson({
          model: path,
          recurrent: report.recurrent,
          initialGains: report.initialGains,
          depthWithoutNormalization: report.depthWithoutNormalization,
          probe: probe ?? null,
          support: { backend: support.backend, supported: support.supported, unsupported: support.unsupported, unchecked: support.unchecked },
          findings: all.map((d) => ({ problem: d.problem, severity: d.severity, layer: d.layer ?? null, message: d.message, advice: d.advice })),
          healthy,
        }));
    return code;
  }
  const out: string[] = [`${path}: ${model.name}, ${model.countParams().toLocaleString('en-US')} params, ${model.layers.length} layers`];
  if (report.recurrent.length > 0) {
    out.push('', 'recurrent kernels:');
    out.push(
      table(
        ['  layer', 'class', 'gate', 'spectral radius', 'max singular value', 'T'],
        report.recurrent.map((r) => [`  ${r.layer}`, r.className, r.gate, r.spectralRadius, r.maxSingularValue, r.timeSteps ?? '—']),
      ),
    );
  }
  if (report.initialGains.length > 0) {
    out.push('', 'initial weight scale, RMS(kernel)·√fan-in (He ≈ 1.41):');
    out.push(table(['  layer', 'class', 'gain'], report.initialGains.map((g) => [`  ${g.layer}`, g.className, g.gain])));
  }
  out.push('', `longest run of weighted layers without normalization: ${report.depthWithoutNormalization}`);
  out.push(
    '',
    support.supported
      ? `training on the '${support.backend}' backend: every layer has its gradient kernels`
      : `${ICON.warning} ${support.message}${o.probe ? ' (probe skipped)' : ''}`,
  );
  if (probe && probe.length > 0) {
    out.push('', `probe: ${probe.length} SGD step${probe.length === 1 ? '' : 's'} on random data, gradient norm per layer:`);
    const layers = probe[0]!.layers.map((l) => l.layer);
    const rows: (string | number)[][] = [['  (global)', ...probe.map((p) => p.globalNorm)]];
    for (const name of layers) rows.push([`  ${name}`, ...probe.map((p) => p.layers.find((l) => l.layer === name)?.norm ?? Number.NaN)]);
    out.push(table(['  layer', ...probe.map((p) => `step ${p.step}`)], rows));
  }
  if (all.length === 0) out.push('', 'No problems found.');
  for (const d of all) {
    out.push('', `${ICON[d.severity]} ${d.severity} ${d.problem}${d.layer ? ` in layer "${d.layer}"` : ''}`, `    ${d.message}`);
    for (const a of d.advice.slice(0, 2)) out.push(`    try ${a.remedy}: ${a.detail}`);
  }
  const count = problems.length + (support.supported ? 0 : 1);
  out.push('', healthy ? 'healthy' : `${count} problem${count === 1 ? '' : 's'} found (exit code 1)`);
  // Layer and model names come from the model file: control characters in them are shown, never sent to the terminal.
  process.stdout.write(`${escapeControlChars(out.join('\n'))}\n`);
  return code;
}
