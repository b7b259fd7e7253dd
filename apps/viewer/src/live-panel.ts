import * as tf from '@tensorflow/tfjs';
import { formatNumber as fmt } from '@gradguard/core/run-log';
import { chartData } from '@gradguard/reporter';
import { WEB_BACKEND_CHOICES, type WebBackendChoice, type WebBackendReport, activateBackend } from './backend';
import { h } from './dom';
import { LIVE_SETUP, type LiveRun, type LiveSession, startLiveTraining } from './live-training';
import type { TextSource } from './load-run';
import { diagnosisList, runChartsIn, summaryTable } from './run-view';

/** The backend report of `useWebGpuBackend`: the active backend, the WebGPU adapter, each backend skipped and why. */
function backendReport(r: WebBackendReport): (Node | string)[] {
  const a = r.adapter;
  return [
    h(
      'p',
      {},
      'backend: ',
      h('b', { 'data-testid': 'backend-name' }, r.backend),
      a ? ' · WebGPU adapter: ' : '',
      a ? h('span', { 'data-testid': 'adapter' }, [a.vendor, a.architecture, a.description && `(${a.description})`].filter(Boolean).join(' ')) : '',
    ),
    r.skipped.length > 0
      ? h('ul', { class: 'skipped', 'data-testid': 'backend-skipped' }, ...r.skipped.map((s) => h('li', {}, h('b', {}, s.backend), ` skipped (${s.reason}): ${s.detail}`)))
      : '',
    ...r.notes.map((n) => h('p', { class: 'note' }, n)),
    // Measured here: SimpleRNN(32), T = 30, one SGD step takes seconds on SwiftShader's WebGPU, ~0.1 s on wasm.
    r.backend === 'webgpu' && /swiftshader/i.test(`${a?.architecture} ${a?.description}`)
      ? h('p', { class: 'note', 'data-testid': 'software-gpu' }, 'This WebGPU adapter is SwiftShader, a software GPU: each step takes seconds here. Choose wasm for speed.')
      : '',
  ];
}

/**
 * The "Live training" panel: the CLI demo trained in this browser, unguarded against clipByGlobalNorm, with the
 * backend report, per-run status, diagnoses and charts updated after every step.
 */
export function mountLivePanel(root: HTMLElement, openInRuns: (files: readonly TextSource[]) => void): void {
  const s = LIVE_SETUP;
  const backendLine = h('div', { class: 'backend', 'data-testid': 'backend' }, 'backend: chosen when training starts');
  const choice = h(
    'select',
    { 'data-testid': 'backend-choice' },
    ...WEB_BACKEND_CHOICES.map((c) => h('option', { value: c }, c === 'auto' ? 'auto (WebGPU → WebGL → wasm → cpu)' : c)),
  );
  const steps = h('input', { type: 'number', min: '1', max: '500', value: String(s.steps), 'data-testid': 'steps' });
  const start = h('button', { type: 'button', 'data-testid': 'start' }, 'Train');
  const stop = h('button', { type: 'button', 'data-testid': 'stop', disabled: '' }, 'Stop');
  const status = h('p', { class: 'note', 'data-testid': 'live-status' }, 'Press Train: two runs of the same seeded model, step by step.');
  const openRuns = h('button', { type: 'button', 'data-testid': 'open-in-runs', hidden: '' }, 'Open both run logs in the Run logs tab');
  let lastRuns: readonly LiveRun[] = [];
  openRuns.addEventListener('click', () =>
    openInRuns(lastRuns.map((r) => ({ name: `live-${r.label}.jsonl`, text: async () => r.jsonl.join('') }))),
  );
  const cards = h('div', { class: 'cards' });
  const chartsRoot = h('div', { class: 'charts', 'data-testid': 'live-charts' });
  root.append(
    h(
      'p',
      {},
      `The demo of the gradguard CLI, in your browser: ${s.model}, ${s.task}, SGD lr ${s.learningRate}, batch ${s.batchSize}, seed ${s.seed}. `,
      'The same model is trained twice on the same batches: ',
      h('b', {}, 'unguarded'),
      ', and ',
      h('b', {}, `guarded by clipByGlobalNorm(${s.maxNorm})`),
      '. gradguard measures every step on the device (one readback), diagnoses it and advises.',
    ),
    backendLine,
    h('div', { class: 'controls' }, h('label', {}, 'backend ', choice), ' ', h('label', {}, 'steps ', steps), ' ', start, ' ', stop),
    status,
    openRuns,
    cards,
    chartsRoot,
  );
  const drawCharts = runChartsIn(chartsRoot);
  let backend: WebBackendReport | undefined;
  let session: LiveSession | undefined;
  const downloads: string[] = [];

  const card = (r: LiveRun): HTMLElement => {
    const last = r.log.steps.at(-1);
    const line =
      `${r.status}` +
      (last ? ` · step ${last.step} · loss ${last.loss === null ? '—' : fmt(last.loss)} · ‖g‖ ${fmt(last.preClipNorm)}` : '') +
      (r.msPerStep > 0 ? ` · ${r.msPerStep.toFixed(0)} ms/step` : '') +
      (r.reason ? ` — ${r.reason}` : '');
    const done = r.status !== 'running' && r.status !== 'waiting';
    let link: HTMLElement | null = null;
    if (done && r.jsonl.length > 0) {
      const url = URL.createObjectURL(new Blob([...r.jsonl], { type: 'application/x-ndjson' }));
      downloads.push(url);
      link = h('a', { class: 'button', href: url, download: `live-${r.label}.jsonl`, 'data-testid': 'download' }, 'Download run log');
    }
    return h(
      'article',
      { class: `run ${r.label}`, 'data-testid': `live-${r.label}`, 'data-status': r.status },
      h('h2', {}, r.label, ' ', h('span', { class: 'note' }, `transform: ${r.transform}`)),
      h('p', { class: 'run-status', 'data-testid': 'run-status' }, line),
      r.log.header ? summaryTable(r.log) : null,
      link,
      h('h3', {}, 'Diagnoses'),
      diagnosisList(r.log),
    );
  };

  const update = (runs: readonly LiveRun[]): void => {
    lastRuns = runs;
    cards.replaceChildren(...runs.map(card));
    const withSteps = runs.filter((r) => r.log.steps.length > 0);
    if (withSteps.length > 0) drawCharts(chartData(withSteps.map((r) => r.log), withSteps.map((r) => r.label)));
  };

  start.addEventListener('click', () => {
    void (async () => {
      start.disabled = true;
      steps.disabled = true;
      choice.disabled = true;
      root.dataset.state = 'running';
      try {
        const wanted = choice.value as WebBackendChoice;
        if (backend?.requested !== wanted) {
          backend = undefined;
          backendLine.textContent = 'backend: starting…';
          backend = await activateBackend(wanted);
          backendLine.replaceChildren(...backendReport(backend));
        }
        for (const u of downloads.splice(0)) URL.revokeObjectURL(u);
        const before = tf.memory().numTensors;
        status.textContent = 'training…';
        openRuns.hidden = true;
        stop.disabled = false;
        session = startLiveTraining({ steps: Number(steps.value) || s.steps, backend: backend.backend, onUpdate: update });
        await session.done;
        const after = tf.memory().numTensors;
        root.dataset.tensorsBefore = String(before);
        root.dataset.tensorsAfter = String(after);
        openRuns.hidden = false;
        status.textContent = `done. Tensors in memory: ${before} before, ${after} after (every tensor of the run was disposed${after === before ? '' : ' — NOT: a leak'}).`;
      } catch (e) {
        // A named backend that is not available here rejects with a GradguardError that says why and what to do.
        status.textContent = `failed: ${(e as Error).message}`;
        if (backend === undefined) backendLine.textContent = `backend: ${(e as Error).message}`;
      } finally {
        session = undefined;
        root.dataset.state = 'done';
        start.disabled = false;
        steps.disabled = false;
        choice.disabled = false;
        stop.disabled = true;
      }
    })();
  });
  stop.addEventListener('click', () => session?.stop());
}
