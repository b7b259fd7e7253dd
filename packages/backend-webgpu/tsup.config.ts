import { library } from '@gradguard/tsup-config';

export default library({
  entry: { index: 'src/index.ts' },
  // The public types name WebGPU's (GPU, GPUPowerPreference): point consumers at @webgpu/types, a dependency.
  dts: { banner: '/// <reference types="@webgpu/types" />' },
});
