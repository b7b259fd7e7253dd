import { type LayerMap, type Monitor, describeLayers, measureKernels, measureKernelsNow } from '@gradguard/core';

/**
 * Tells the monitor's detectors what the model's layers are — their kind, so problems are named by it, and their
 * kernels as the run starts, for the initialization rule. On host backends (cpu, wasm, tfjs-node) the kernels are read
 * in place at once; on device backends the layers are described at once and again after one asynchronous read of the
 * kernels, unless `current()` says the model was replaced meanwhile. A model disposed before that read leaves the
 * kernel rule without facts: it stays silent.
 */
export function describeModelTo(monitor: Monitor | undefined, map: LayerMap, current: () => boolean): void {
  if (!monitor?.describeModel) return;
  const now = measureKernelsNow(map);
  monitor.describeModel(describeLayers(map, now));
  if (!now) measureKernels(map).then((k) => current() && monitor.describeModel!(describeLayers(map, k)), () => undefined);
}
