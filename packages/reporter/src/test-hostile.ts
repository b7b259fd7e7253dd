import { type RunLogRecord, encodeRunLogRecord } from '@gradguard/core/run-log';

// Run logs written to hurt a reader: huge, with a new layer name every step, absurd strings and markup in every text
// field (not exported by the package).

export interface HostileLogOptions {
  /** Steps to write; each has two layers, one of them named anew. */
  readonly steps: number;
  /** Length of the run name (and of the config value and end reason). */
  readonly nameChars: number;
  /** Step at which the gradient spikes to 1e12 (inside a bucket of ordinary norms around 1). */
  readonly spikeAt?: number;
  /** Text put into every free-text field. */
  readonly payload?: string;
}

/** The JSONL text of a hostile run log. */
export function hostileRunLogText(o: HostileLogOptions): string {
  const payload = o.payload ?? '</script><script>window.__pwned=1</script>';
  const long = (n: number): string => (payload + 'x'.repeat(Math.max(0, n))).slice(0, Math.max(n, payload.length));
  const lines: string[] = [];
  const push = (r: RunLogRecord): void => {
    lines.push(encodeRunLogRecord(r));
  };
  push({
    type: 'header',
    version: 1,
    runId: `run-${payload}`,
    name: long(o.nameChars),
    startedAt: '2026-11-23T00:00:00.000Z',
    backend: payload,
    model: {
      name: payload,
      params: 2,
      layers: Array.from({ length: 300 }, (_, i) => ({ name: `${payload}${i}`, className: 'Dense', params: 1 })),
    },
    config: { transform: long(o.nameChars), [payload]: payload },
  });
  for (let i = 0; i < o.steps; i++) {
    const norm = i === o.spikeAt ? 1e12 : 1 + 0.01 * (i % 7);
    push({
      type: 'step',
      step: i,
      time: i,
      loss: 1 / (i + 1),
      globalNorm: norm,
      preClipNorm: norm,
      postClipNorm: norm,
      scale: 1,
      skipped: false,
      learningRate: 0.1,
      maxAbs: norm,
      nonFinite: i % 97 === 0 ? 1 : 0,
      layers: [
        { layer: 'stable', size: 4, norm, maxAbs: norm, nonFinite: 0, zeros: 0 },
        { layer: `${payload}-layer-${i}-${'y'.repeat(200)}`, size: 4, norm: norm / 2, maxAbs: norm / 2, nonFinite: 0, zeros: 0 },
      ],
    });
    if (i % 25 === 0) {
      push({
        type: 'diagnosis',
        problem: 'exploding-gradient',
        severity: 'critical',
        phase: 'onset',
        step: i,
        layer: payload,
        detector: payload,
        message: long(2000),
        evidence: { [payload]: payload },
        advice: [{ remedy: 'clipByGlobalNorm', detail: payload }],
      });
    }
  }
  push({ type: 'end', status: 'stopped', steps: o.steps, endedAt: payload, reason: long(o.nameChars), finalLoss: null });
  return `${lines.join('\n')}\n`;
}
