import * as tf from '@tensorflow/tfjs-core';
import { type TensorFacts, hostViewOf } from '@gradguard/core';
import type { TensorMap } from './transformation';

/** What replaying a non-finite step on another backend found. */
export interface NonFiniteReplay {
  /** The step (0-based optimizer update) whose loss or gradients were non-finite. */
  readonly step: number;
  /** The backend the step ran on, e.g. `wasm`, `webgl`. */
  readonly backend: string;
  /** The backend it was replayed on (`cpu`). */
  readonly replayedOn: string;
  /**
   * `backend`: the replay is finite, so the training backend's kernels produced the NaN/Infinity (a precision or
   * kernel bug: tfjs issues #1321, #4326, #5573) — the model and the data are not at fault. `model`: the replay is
   * non-finite too, so the weights, the data or the loss produce it on every backend.
   */
  readonly verdict: 'backend' | 'model';
  /** The step's loss and its count of non-finite gradient entries on the training backend (NaN when not known). */
  readonly loss: number;
  readonly nonFinite: number;
  /** The same on the replay backend. */
  readonly replayLoss: number;
  readonly replayNonFinite: number;
}

/**
 * The check `guard` runs on each step when `replayNonFiniteOn` is set: when the step's loss or gradients are
 * non-finite, the same loss function is run again, with the same weights (before this step's update) and the same
 * batch, on the replay backend, and the verdict is recorded. On cpu, wasm and tfjs-node the check reads what the
 * statistics pass measured (free); elsewhere it costs one synchronous read of two numbers per step.
 */
export interface NonFiniteReplayer {
  readonly events: readonly NonFiniteReplay[];
  /** Returns the replay made for this step, if it was non-finite and could be replayed. */
  check(step: number, grads: TensorMap, loss: tf.Scalar | undefined, facts: ReadonlyMap<tf.Tensor, TensorFacts> | undefined, f: () => tf.Scalar, vars: readonly tf.Variable[]): NonFiniteReplay | undefined;
}

export function createNonFiniteReplayer(target: string, onReplay?: (r: NonFiniteReplay) => void): NonFiniteReplayer {
  const events: NonFiniteReplay[] = [];
  return {
    events,
    check(step, grads, loss, facts, f, vars) {
      const backend = tf.getBackend();
      if (backend === target) return undefined; // nothing to compare with
      const { loss: lossValue, nonFinite } = measure(grads, loss, facts);
      if (nonFinite === 0 && (loss === undefined || Number.isFinite(lossValue))) return undefined;
      const replay = replayOn(target, backend, f, vars);
      if (replay === undefined) return undefined;
      const event: NonFiniteReplay = {
        step,
        backend,
        replayedOn: target,
        verdict: replay.nonFinite === 0 && Number.isFinite(replay.loss) ? 'backend' : 'model',
        loss: lossValue,
        nonFinite,
        replayLoss: replay.loss,
        replayNonFinite: replay.nonFinite,
      };
      events.push(event);
      onReplay?.(event);
      return event;
    },
  };
}

/** The step's loss and non-finite gradient count: from the statistics pass's facts, else one small device read. */
function measure(grads: TensorMap, loss: tf.Scalar | undefined, facts: ReadonlyMap<tf.Tensor, TensorFacts> | undefined): { loss: number; nonFinite: number } {
  const gs = Object.values(grads);
  const view = facts && hostViewOf();
  if (facts && gs.every((g) => facts.has(g)) && (loss === undefined || view?.(loss))) {
    return { loss: loss === undefined ? Number.NaN : view!(loss)![0]!, nonFinite: gs.reduce((a, g) => a + facts.get(g)!.nonFinite, 0) };
  }
  return readCounts(gs, loss);
}

/** Runs `f` and its gradients on `target` with the live variables, then switches back to `original`. */
function replayOn(target: string, original: string, f: () => tf.Scalar, vars: readonly tf.Variable[]): { loss: number; nonFinite: number } | undefined {
  // tf.setBackend is async only while a backend initializes; for cpu (and any backend already used) it switches
  // synchronously, which is what a step needs. The variables' data moves to the target and back as tfjs moves data.
  void tf.setBackend(target);
  if (tf.getBackend() !== target) {
    void tf.setBackend(original);
    return undefined;
  }
  try {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(f, vars.length > 0 ? [...vars] : undefined);
      return readCounts(Object.values(grads), value);
    });
  } catch {
    return undefined;
  } finally {
    void tf.setBackend(original);
  }
}

/** Loss and non-finite count with one synchronous read (the replay, or a device backend's non-finite check). */
function readCounts(gs: readonly tf.Tensor[], loss: tf.Scalar | undefined): { loss: number; nonFinite: number } {
  const both = tf.tidy(() => {
    const bad = gs.length === 0 ? tf.scalar(0) : tf.addN(gs.map((g) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(g)), 'float32'))));
    return tf.stack([loss === undefined ? tf.scalar(Number.NaN) : tf.cast(loss, 'float32'), bad]);
  });
  // eslint-disable-next-line no-restricted-properties -- a rare, opt-in check: the step cannot go on before it
  const [l, n] = both.dataSync();
  both.dispose();
  return { loss: l!, nonFinite: n! };
}
