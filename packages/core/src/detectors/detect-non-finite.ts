import { ADVICE } from '../advice';
import type { Detector, Finding } from '../detector';

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
            (s.skipped ? '; the update was skipped.' : '; applying them destroys the weights.'),
          evidence: {
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
          message: `The loss is ${s.loss} at step ${s.step}.`,
          evidence: { where: 'loss', loss: s.loss, globalNorm: s.globalNorm },
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
