import '@tensorflow/tfjs';
import { type WebBackendChoice, type WebBackendReport, WEB_BACKEND_CHOICES, useWebGpuBackend } from '@gradguard/backend-webgpu';

export { WEB_BACKEND_CHOICES };
export type { WebBackendChoice, WebBackendReport };

/**
 * The wasm backend, loaded only when it is reached: its .wasm binaries are emitted by Vite as assets and their URLs
 * handed to `setWasmPaths` (a bundle cannot find them next to the script, as tfjs would try to).
 */
async function loadWasm(): Promise<void> {
  const [wasm, { default: plain }, { default: simd }, { default: threadedSimd }] = await Promise.all([
    import('@tensorflow/tfjs-backend-wasm'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
  ]);
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': plain,
    'tfjs-backend-wasm-simd.wasm': simd,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedSimd,
  });
}

/**
 * Activates the backend the live demo trains on with `useWebGpuBackend` (WebGPU → WebGL → wasm → cpu for `auto`),
 * and returns its report: the adapter found, and every backend skipped with the reason.
 */
export function activateBackend(choice: WebBackendChoice = 'auto'): Promise<WebBackendReport> {
  return useWebGpuBackend({ backend: choice, loaders: { wasm: loadWasm } });
}
