import { ADVICE } from '../advice';
import type { Detector, Finding } from '../detector';
import type { StepStatistics } from '../run-log/statistics';

/**
 * Fires (critical) on any step whose gradients contain NaN/±Infinity, whose loss is not finite, or whose weights are
 * not finite (when weight norms are measured) — the last symptom of an explosion, after which the weights are lost
 * unless the update is skipped. AUTOTRAINER (Zhang et al., ICSE 2021) counts any NaN as an exploding gradient.
 * Names the first layer, in model order, that holds the bad values.
 */
export function detectNonFinite(): Detector {
  return {
    name: 'detectNonFinite',
    observe(s) {
      const findings: Finding[] = [];
      const source = replayVerdict(s.replay);
      if (s.nonFinite > 0) {
        const bad = s.layers.filter((l) => l.nonFinite > 0);
        const first = bad[0];
        const varsBad = s.variables.filter((v) => v.nonFinite > 0).length;
        findings.push({
          problem: 'non-finite',
          severity: 'critical',
          ...(first ? { layer: first.layer } : {}),
          message:
            `${s.nonFinite} of ${s.size} gradient entries are NaN/Infinity` +
            (first ? `, first in layer "${first.layer}" (${first.nonFinite} entries)` : ` in ${varsBad} variable(s)`) +
            (s.skipped ? '; the update was skipped.' : '; applying them destroys the weights.') +
            source.text,
          evidence: {
            ...source.evidence,
            where: 'gradients',
            nonFinite: s.nonFinite,
            size: s.size,
            layersAffected: bad.length,
            variablesAffected: varsBad,
            globalNorm: s.globalNorm,
          },
          advice: ADVICE['non-finite'],
        });
      }
      if (s.loss !== undefined && !Number.isFinite(s.loss)) {
        findings.push({
          problem: 'non-finite',
          severity: 'critical',
          message: `The loss is ${s.loss} at step ${s.step}.${source.text}`,
          evidence: { where: 'loss', loss: s.loss, globalNorm: s.globalNorm, ...source.evidence },
          advice: ADVICE['non-finite'],
        });
      }
      if (s.weightNorm !== undefined && !Number.isFinite(s.weightNorm)) {
        const bad = s.layers.filter((l) => l.weightNorm !== undefined && !Number.isFinite(l.weightNorm));
        const first = bad[0];
        findings.push({
          problem: 'non-finite',
          severity: 'critical',
          ...(first ? { layer: first.layer } : {}),
          message:
            `The weights are no longer finite (norm ${s.weightNorm})` +
            (first ? `, first in layer "${first.layer}" of ${bad.length} layer(s).` : '.') +
            ' Training cannot recover from here: restore a checkpoint.',
          evidence: { where: 'weights', weightNorm: s.weightNorm, layersAffected: bad.length },
          advice: ADVICE['non-finite'],
        });
      }
      return findings;
    },
    reset() {},
  };
}

/** The replay's verdict (guard's `replayNonFiniteOn`) as a sentence and evidence, or nothing when there was none. */
function replayVerdict(r: StepStatistics['replay']): { text: string; evidence: Record<string, string> } {
  if (!r) return { text: '', evidence: {} };
  const text =
    r.verdict === 'backend'
      ? ` Replayed on ${r.replayedOn}, the same batch with the same weights is finite: the ${r.backend} backend's kernels ` +
        'produced the NaN/Infinity (a backend precision bug, as in tfjs issues #1321, #4326, #5573), not the model — ' +
        `train on ${r.replayedOn} or another backend, and report it to tfjs.`
      : ` Replayed on ${r.replayedOn} it is non-finite too: the model, its weights or the data produce it, not the ${r.backend} backend.`;
  return { text, evidence: { nonFiniteSource: r.verdict, replayedOn: r.replayedOn, backend: r.backend } };
}
