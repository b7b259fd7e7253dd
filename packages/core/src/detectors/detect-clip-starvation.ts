import { ADVICE } from '../advice';
import type { Detector } from '../detector';
import { checkNumber, checkOptions } from '../errors';
import { formatNumber as fmt } from '../format';

export interface DetectClipStarvationOptions {
  /** A step whose update was scaled to this or less (postClipNorm / preClipNorm) is heavily clipped. Default 0.1. */
  readonly maxScale?: number;
  /** ... and it starves the rest when one tensor holds on average at least this share of ‖g‖² (and the majority on each step). Default 0.8. */
  readonly share?: number;
  /** Consecutive measured steps both must hold, with the same tensor dominating. Default 20. */
  readonly patience?: number;
}

/**
 * Clip starvation (Megatron-LM issue #5394): global-norm clipping scales every tensor by the same coefficient
 * c = threshold / ‖g‖, so when one tensor holds most of ‖g‖² (an embedding or output layer with a huge gradient) c
 * stays ≪ 1 and every other tensor's update shrinks with it: the outlier sets the pace and the rest of the model
 * barely learns. Flags a run of `patience` steps on which c ≤ `maxScale` and the same tensor holds the majority of
 * ‖g‖², ≥ `share` of it on average over the run (one noisy step at 79 % does not restart a run of 95 %s), naming it.
 * Tensors are the step's variables when measured, else its layers. Skipped and non-finite steps
 * break the run (that is the non-finite rule's business). The cure is to clip that tensor on its own: per-tensor
 * `clipByNorm`, or a global clip per group with the outlier in its own group.
 *
 * The rule reads the step's one coefficient (postClipNorm / preClipNorm) as applied to every tensor, which is what
 * global clipping does (clipByGlobalNorm, Keras' global_clipnorm). Under per-tensor clipping the same coefficient
 * hides that the other tensors kept their size, so a run already clipped per tensor should use a detector list
 * without this rule (the step record carries no per-tensor post-clip norms to tell the two apart).
 */
export function detectClipStarvation(options: DetectClipStarvationOptions = {}): Detector {
  const where = 'detectClipStarvation';
  checkOptions(where, options, ['maxScale', 'share', 'patience']);
  const maxScale = checkNumber(where, 'maxScale', options.maxScale ?? 0.1, { exclusiveMin: 0, max: 1 });
  const share = checkNumber(where, 'share', options.share ?? 0.8, { exclusiveMin: 0, max: 1 });
  const patience = checkNumber(where, 'patience', options.patience ?? 20, { min: 1, integer: true });
  let streak: { tensor: string; since: number; count: number; shareSum: number; minShare: number; maxScale: number } | undefined;
  return {
    name: where,
    observe(s) {
      if (s.skipped || !(s.scale <= maxScale) || !(s.scale > 0) || !Number.isFinite(s.preClipNorm) || !Number.isFinite(s.postClipNorm)) {
        streak = undefined;
        return [];
      }
      const tensors = s.variables.length > 0 ? s.variables.map((v) => ({ name: v.name, layer: v.layer, norm: v.norm })) : s.layers.map((l) => ({ name: l.layer, layer: l.layer, norm: l.norm }));
      let total = 0;
      let top: (typeof tensors)[number] | undefined;
      for (const t of tensors) {
        total += t.norm * t.norm;
        if (!top || t.norm > top.norm) top = t;
      }
      const topShare = top && total > 0 ? (top.norm * top.norm) / total : 0;
      // The run continues while the same tensor holds the majority; its mean share over the run must reach `share`, so one
      // noisy batch at 79 % does not restart a run of 95 %s.
      if (!top || !(topShare > 0.5)) {
        streak = undefined;
        return [];
      }
      if (streak?.tensor !== top.name) streak = { tensor: top.name, since: s.step, count: 0, shareSum: 0, minShare: 1, maxScale: 0 };
      streak.count++;
      streak.minShare = Math.min(streak.minShare, topShare);
      streak.shareSum += topShare;
      streak.maxScale = Math.max(streak.maxScale, s.scale);
      const meanShare = streak.shareSum / streak.count;
      if (streak.count < patience || meanShare < share) return [];
      const layer = top.layer;
      const named = layer !== undefined && layer !== top.name ? `tensor "${top.name}" (layer "${layer}")` : `tensor "${top.name}"`;
      return [
        {
          problem: 'clip-starvation',
          severity: 'warning',
          ...(layer !== undefined ? { layer } : {}),
          message:
            `Global clipping has scaled every update to ${fmt(streak.maxScale)}× or less for ${streak.count} steps ` +
            `(since step ${streak.since}; now ${fmt(s.scale)}×) while ${named} holds ${fmt(meanShare * 100)} % of the ` +
            `squared gradient norm: that one tensor sets the clip, and every other tensor's update shrinks with it, so ` +
            `the rest of the model barely learns. Clip ${named} on its own (clipByNorm, or a group of its own).`,
          evidence: {
            tensor: top.name,
            share: topShare,
            meanShare,
            minShare: streak.minShare,
            scale: s.scale,
            maxScale: streak.maxScale,
            streak: streak.count,
            since: streak.since,
            tensorNorm: top.norm,
            preClipNorm: s.preClipNorm,
          },
          advice: ADVICE['clip-starvation'],
        },
      ];
    },
    reset() {
      streak = undefined;
    },
  };
}
