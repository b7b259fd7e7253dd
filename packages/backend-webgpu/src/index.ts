export { useWebGpuBackend, WEB_BACKEND_CHOICES, WEB_BACKEND_PACKAGES } from './use-webgpu-backend';
export type {
  BackendLoader,
  SkippedWebBackend,
  UseWebGpuBackendOptions,
  WebBackendChoice,
  WebBackendReport,
  WebGpuAdapterInfo,
} from './use-webgpu-backend';
