export {
  useNodeBackend,
  NODE_BACKEND_CHOICES,
  TFJS_NODE_GPU,
  TFJS_NODE,
  TFJS_BACKEND_WASM,
  TFJS_BACKEND_CPU,
} from './use-node-backend';
export type { NodeBackendChoice, NodeBackendReport, UseNodeBackendOptions } from './use-node-backend';
export { BackendUnavailableError } from './errors';
export type { SkippedBackend } from './errors';
export { createModuleLoader } from './module-loader';
export type { LoadResult, ModuleLoader, ModuleLoaderOptions } from './module-loader';
export { probeNvidiaGpus, parseNvidiaSmi } from './gpu-probe';
export type { GpuDevice, GpuProbe, ProbeNvidiaGpusOptions } from './gpu-probe';
export { checkCoreIdentity } from './core-identity';
export type { CoreIdentity } from './core-identity';
// Lives in @gradguard/core (both backend adapters and the CLI use it); re-exported where it first shipped.
export { checkModelSupport, TRAINING_KERNELS } from '@gradguard/core';
export type { ModelLike, ModelSupport, UnsupportedLayer } from '@gradguard/core';
