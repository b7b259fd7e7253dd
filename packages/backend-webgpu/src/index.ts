export { useWebGpuBackend, WEB_BACKEND_CHOICES, WEB_BACKEND_PACKAGES } from './use-webgpu-backend';
export { registerStatsKernels, webGlTensorStats, webGpuTensorStats } from './stats-kernels';
export type {
  BackendLoader,
  SkippedWebBackend,
  UseWebGpuBackendOptions,
  WebBackendChoice,
  WebBackendReport,
  WebGpuAdapterInfo,
} from './use-webgpu-backend';
// Which layers can train on the chosen backend (WebGL and WebGPU lack some gradient kernels too), from @gradguard/core.
export { checkModelSupport, TRAINING_KERNELS } from '@gradguard/core';
export type { ModelLike, ModelSupport, UnsupportedLayer } from '@gradguard/core';
