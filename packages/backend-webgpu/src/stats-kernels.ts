// gradguard's statistics kernel (TENSOR_STATS_KERNEL from @gradguard/core) as one custom program per backend: a WGSL
// compute shader for webgpu and a GLSL fragment program for webgl. Core looks the kernel up in tfjs's kernel registry
// and falls back to stock ops where none is registered; only this adapter knows the backends' program APIs
// (WebGPUBackend.runWebGPUProgram, MathBackendWebGL.runWebGLProgram), which are public methods of the backend objects
// but whose program types live in the backend packages, so they cannot be core's.
import * as tf from '@tensorflow/tfjs-core';
import { GradguardError, TENSOR_STATS_FIELDS, TENSOR_STATS_KERNEL } from '@gradguard/core';

type Info = tf.TensorInfo;

/** What this file uses of tfjs-backend-webgpu's WebGPUBackend (public methods; typed here to keep it a type-free peer). */
interface WebGpuBackendLike {
  readonly device: { readonly limits: { readonly maxStorageBuffersPerShaderStage: number } };
  makeTensorInfo(shape: number[], dtype: tf.DataType): Info;
  runWebGPUProgram(program: WebGpuProgram, inputs: Info[], dtype: tf.DataType, uniforms: { type: string; data: number[] }[], output: Info): Info;
}

/** The fields of tfjs-backend-webgpu's `WebGPUProgram` this program sets. */
interface WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

/** What this file uses of tfjs-backend-webgl's MathBackendWebGL. */
interface WebGlBackendLike {
  readonly texData: { get(dataId: tf.DataId): { isPacked?: boolean } };
  runWebGLProgram(program: WebGlProgram, inputs: Info[], dtype: tf.DataType): Info;
  unpackTensor(input: Info): Info;
  disposeIntermediateTensorInfo(info: Info): void;
}

/** The fields of tfjs-backend-webgl's `GPGPUProgram` this program sets. */
interface WebGlProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  packedInputs?: boolean;
}

const WORKGROUP = 256;

/** The inputs in call order (x0, x1, …), checked: non-empty float32. */
function orderedInputs(inputs: tf.NamedTensorInfoMap): Info[] {
  const list: Info[] = [];
  for (let i = 0; inputs[`x${i}`] !== undefined; i++) list.push(inputs[`x${i}`]!);
  if (list.length !== Object.keys(inputs).length || list.length === 0) {
    throw new GradguardError('INVALID_ARGUMENT', `${TENSOR_STATS_KERNEL}: inputs must be named x0, x1, … without gaps (got ${Object.keys(inputs).join(', ') || 'none'}).`, 'Call it through runTensorStatsKernel from @gradguard/core.');
  }
  list.forEach((t, i) => {
    if (t.dtype !== 'float32' || tf.util.sizeFromShape(t.shape) === 0) {
      throw new GradguardError('INVALID_ARGUMENT', `${TENSOR_STATS_KERNEL}: input x${i} is ${t.dtype === 'float32' ? 'empty' : t.dtype}.`, 'Pass non-empty float32 tensors.');
    }
  });
  return list;
}

/** The same data seen as a flat vector: free on both backends for unpacked data (a new view of the same buffer). */
function flat(t: Info): Info {
  return { dataId: t.dataId, shape: [tf.util.sizeFromShape(t.shape)], dtype: t.dtype };
}

/**
 * WebGPU: one workgroup per input, 256 invocations striding over it; a first pass classifies each entry by its bits
 * (exponent all ones: non-finite; mantissa too: NaN; all zero: ±0) and keeps the largest finite |x| as bits (for
 * non-negative floats the bit order is the numeric order), a tree reduction in workgroup memory, then a second pass
 * sums (x / m)² over the finite entries. `inputs` of them per dispatch, writing at `offset` of the shared output.
 */
function webGpuProgram(inputs: number): WebGpuProgram {
  const names = Array.from({ length: inputs }, (_, i) => `x${i}`);
  const cases = (f: (name: string) => string): string => names.map((n, i) => `case ${i}: { ${f(n)} }`).join('\n      ');
  return {
    outputShape: [1],
    shaderKey: `gradguardTensorStats${inputs}`,
    dispatchLayout: { x: [0] },
    dispatch: [inputs, 1, 1],
    variableNames: names,
    uniforms: 'offset : i32,',
    workgroupSize: [WORKGROUP, 1, 1],
    getUserCode: () => `
  var<workgroup> ggMax : array<u32, ${WORKGROUP}>;
  var<workgroup> ggBad : array<u32, ${WORKGROUP}>;
  var<workgroup> ggNan : array<u32, ${WORKGROUP}>;
  var<workgroup> ggZero : array<u32, ${WORKGROUP}>;
  var<workgroup> ggSum : array<f32, ${WORKGROUP}>;

  fn ggSize(t : i32) -> i32 {
    var r = 0;
    switch t {
      ${cases((n) => `r = uniforms.${n}Shape;`)}
      default: {}
    }
    return r;
  }

  fn ggBits(t : i32, i : i32) -> u32 {
    var r = 0u;
    switch t {
      ${cases((n) => `r = bitcast<u32>(${n}[i]);`)}
      default: {}
    }
    return r & 0x7fffffffu;
  }

  fn main(index : i32) {
    let t = i32(workgroupId.x);
    let lane = localIndex;
    let n = ggSize(t);
    var mx = 0u;
    var bad = 0u;
    var nan = 0u;
    var zero = 0u;
    for (var i = i32(lane); i < n; i = i + ${WORKGROUP}) {
      let b = ggBits(t, i);
      if (b >= 0x7f800000u) {
        bad = bad + 1u;
        if (b > 0x7f800000u) { nan = nan + 1u; }
      } else {
        mx = max(mx, b);
        if (b == 0u) { zero = zero + 1u; }
      }
    }
    ggMax[lane] = mx;
    ggBad[lane] = bad;
    ggNan[lane] = nan;
    ggZero[lane] = zero;
    for (var w = ${WORKGROUP / 2}u; w > 0u; w = w >> 1u) {
      workgroupBarrier();
      if (lane < w) {
        ggMax[lane] = max(ggMax[lane], ggMax[lane + w]);
        ggBad[lane] = ggBad[lane] + ggBad[lane + w];
        ggNan[lane] = ggNan[lane] + ggNan[lane + w];
        ggZero[lane] = ggZero[lane] + ggZero[lane + w];
      }
    }
    workgroupBarrier();
    let mBits = ggMax[0];
    let m = bitcast<f32>(mBits);
    let scale = select(1.0, m, mBits != 0u);
    var s = 0.0;
    for (var i = i32(lane); i < n; i = i + ${WORKGROUP}) {
      let b = ggBits(t, i);
      if (b < 0x7f800000u) {
        let v = bitcast<f32>(b) / scale;
        s = s + v * v;
      }
    }
    ggSum[lane] = s;
    for (var w = ${WORKGROUP / 2}u; w > 0u; w = w >> 1u) {
      workgroupBarrier();
      if (lane < w) { ggSum[lane] = ggSum[lane] + ggSum[lane + w]; }
    }
    if (lane == 0u) {
      let o = uniforms.offset + t * ${TENSOR_STATS_FIELDS};
      result[o] = ggSum[0];
      result[o + 1] = m;
      result[o + 2] = f32(ggBad[0]);
      result[o + 3] = f32(ggNan[0]);
      result[o + 4] = f32(ggZero[0]);
    }
  }
`,
  };
}

/**
 * The webgpu kernel: every input in ceil(inputs / (maxStorageBuffersPerShaderStage − 1)) dispatches (7 inputs each on
 * the default limit of 8 storage buffers; tfjs 4.22 does not raise it), all writing one output, so no concat follows.
 */
export function webGpuTensorStats({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  const b = backend as WebGpuBackendLike;
  const list = orderedInputs(inputs);
  const per = Math.max(1, b.device.limits.maxStorageBuffersPerShaderStage - 1);
  const out = b.makeTensorInfo([list.length * TENSOR_STATS_FIELDS], 'float32');
  for (let s = 0; s < list.length; s += per) {
    const chunk = list.slice(s, s + per).map(flat);
    b.runWebGPUProgram(webGpuProgram(chunk.length), chunk, 'float32', [{ type: 'int32', data: [s * TENSOR_STATS_FIELDS] }], out);
  }
  return out;
}

/** A packed texture's logical shape as [batch, rows, cols]: a view tfjs reads without a reshape program. */
function packedDims(shape: readonly number[]): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  if (shape.length === 1) return [1, 1, shape[0]!];
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  return [tf.util.sizeFromShape(shape.slice(0, -2)), rows, cols];
}

/**
 * WebGL: a fragment per output number (input t, field f) loops over input t (a fragment cannot share work with
 * others); the same classification by bits (floatBitsToUint, GLSL ES 3.00), and the field Σ(x / m)² loops a second
 * time with m known, summing in blocks of 64. Unpacked inputs are read as flat vectors; packed ones (matMul's outputs)
 * in place, a 2×2 block per texel, skipping the padding of odd rows and columns, so no unpack program runs.
 */
function webGlProgram(shapes: readonly (readonly number[])[], packed: boolean): WebGlProgram {
  const names = shapes.map((_, i) => `x${i}`);
  const getter = (n: string): string => `get${n.charAt(0).toUpperCase()}${n.slice(1)}`;
  const elem = (value: string, body: string): string => `{ uint b = floatBitsToUint(${value}) & 0x7fffffffu; ${body} }`;
  const pass = (body: string): string =>
    names
      .map((n, i) => {
        if (!packed) return `if (t == ${i}) { for (int i = 0; i < ${shapes[i]![0]}; i++) ${elem(`${getter(n)}(i)`, body)} }`;
        const [batch, rows, cols] = shapes[i]!;
        return (
          `if (t == ${i}) { for (int p = 0; p < ${batch}; p++) for (int r = 0; r < ${rows}; r += 2) for (int c = 0; c < ${cols}; c += 2) {` +
          ` vec4 q = ${getter(n)}(p, r, c); ${elem('q.x', body)} if (c + 1 < ${cols}) ${elem('q.y', body)}` +
          ` if (r + 1 < ${rows}) { ${elem('q.z', body)} if (c + 1 < ${cols}) ${elem('q.w', body)} } } }`
        );
      })
      .join('\n      else ');
  return {
    variableNames: names,
    outputShape: [shapes.length, TENSOR_STATS_FIELDS],
    packedInputs: packed,
    userCode: `
    void main() {
      ivec2 rc = getOutputCoords();
      int t = rc.x;
      int f = rc.y;
      uint mx = 0u;
      float bad = 0.0;
      float nan = 0.0;
      float zero = 0.0;
      ${pass('if (b >= 0x7f800000u) { bad += 1.0; if (b > 0x7f800000u) nan += 1.0; } else { mx = max(mx, b); if (b == 0u) zero += 1.0; }')}
      float m = uintBitsToFloat(mx);
      float value = f == 1 ? m : f == 2 ? bad : f == 3 ? nan : zero;
      if (f == 0) {
        float scale = mx == 0u ? 1.0 : m;
        // Blocks of 64: a fragment sums serially, and one float32 running sum over 4096 squares drifted by ~1e-6.
        float s = 0.0;
        float block = 0.0;
        int count = 0;
        ${pass('if (b < 0x7f800000u) { float v = uintBitsToFloat(b) / scale; block += v * v; } count++; if ((count & 63) == 0) { s += block; block = 0.0; }')}
        value = s + block;
      }
      setOutput(value);
    }
  `,
  };
}

/**
 * Puts the parts' rows back in input order: output number j = 5·t + f comes from row `local[t]` of part `part[t]`
 * (packed and unpacked inputs were measured by different programs).
 */
function webGlGather(partSizes: readonly number[], part: readonly number[], local: readonly number[]): WebGlProgram {
  const names = partSizes.map((_, i) => `p${i}`);
  const n = part.length;
  const pick = names.map((name, i) => `k == ${i} ? get${name.charAt(0).toUpperCase()}${name.slice(1)}(row * ${TENSOR_STATS_FIELDS} + f)`).join(' : ');
  return {
    variableNames: names,
    outputShape: [n * TENSOR_STATS_FIELDS],
    userCode: `
    const int PART[${n}] = int[${n}](${part.join(', ')});
    const int LOCAL[${n}] = int[${n}](${local.join(', ')});
    void main() {
      int j = getOutputCoords();
      int t = j / ${TENSOR_STATS_FIELDS};
      int f = j - t * ${TENSOR_STATS_FIELDS};
      int k = PART[t];
      int row = LOCAL[t];
      setOutput(${pick} : 0.0);
    }
  `,
  };
}

/** Inputs per WebGL program: the samplers a fragment shader may use (tfjs's WEBGL_MAX_TEXTURES_IN_SHADER, ≥ 16). */
function webGlInputsPerProgram(): number {
  const n = tf.env().getNumber('WEBGL_MAX_TEXTURES_IN_SHADER');
  return Number.isFinite(n) && n >= 1 ? Math.min(n, 16) : 8;
}

/**
 * The webgl kernel: packed and unpacked inputs measured by programs of their own, 16 inputs each, then (when there
 * are several parts) one gather program putting the rows back in input order: ⌈packed / 16⌉ + ⌈unpacked / 16⌉ + 1
 * programs. Beyond 16 parts (over ~240 tensors), packed inputs are unpacked first and the backend's Concat joins.
 */
export function webGlTensorStats({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  const b = backend as WebGlBackendLike;
  const list = orderedInputs(inputs);
  const per = webGlInputsPerProgram();
  const isPacked = list.map((t) => b.texData.get(t.dataId).isPacked === true);
  const packedCount = isPacked.filter(Boolean).length;
  const inPlace = Math.ceil(packedCount / per) + Math.ceil((list.length - packedCount) / per) <= per;
  const temporaries: Info[] = [];
  const parts: Info[] = [];
  const part: number[] = new Array<number>(list.length);
  const local: number[] = new Array<number>(list.length);
  const measure = (indices: readonly number[], packed: boolean): void => {
    for (let s = 0; s < indices.length; s += per) {
      const chunk = indices.slice(s, s + per);
      const views = chunk.map((i) => {
        const t = list[i]!;
        if (packed) return { dataId: t.dataId, shape: packedDims(t.shape), dtype: t.dtype };
        if (!isPacked[i]) return flat(t);
        const unpacked = b.unpackTensor(t);
        temporaries.push(unpacked);
        return flat(unpacked);
      });
      chunk.forEach((i, row) => {
        part[i] = parts.length;
        local[i] = row;
      });
      parts.push(b.runWebGLProgram(webGlProgram(views.map((v) => v.shape), packed), views, 'float32'));
    }
  };
  try {
    const all = list.map((_, i) => i);
    if (inPlace) {
      measure(all.filter((i) => isPacked[i]), true);
      measure(all.filter((i) => !isPacked[i]), false);
    } else measure(all, false);
    if (parts.length === 1) return flat(parts.pop()!);
    if (inPlace) {
      const sizes = parts.map((p) => tf.util.sizeFromShape(p.shape));
      return b.runWebGLProgram(webGlGather(sizes, part, local), parts.map(flat), 'float32');
    }
    const concat = tf.getKernel('Concat', 'webgl');
    if (!concat) throw new GradguardError('BACKEND_UNAVAILABLE', `${TENSOR_STATS_KERNEL}: the webgl backend has no Concat kernel.`, 'Import @tensorflow/tfjs-backend-webgl before measuring.');
    return concat.kernelFunc({ inputs: parts.map(flat) as unknown as tf.NamedTensorInfoMap, attrs: { axis: 0 }, backend: backend as tf.KernelBackend }) as Info;
  } finally {
    for (const t of [...temporaries, ...parts]) b.disposeIntermediateTensorInfo(t);
  }
}

/**
 * Registers gradguard's one-program statistics kernels for `webgpu` and `webgl` in tfjs's kernel registry (once;
 * later calls do nothing), so that `gradientStats`, `createGradientMeter` and `guard` measure every variable's
 * gradient, weight and update in ⌈tensors / 7⌉ dispatches on WebGPU (⌈packed / 16⌉ + ⌈unpacked / 16⌉ + 1 programs on
 * WebGL) instead of ~16 stock kernels per distinct variable shape. `useWebGpuBackend`
 * calls it; call it yourself when you activate the backend some other way. Returns the backends it registered now.
 */
export function registerStatsKernels(): string[] {
  const added: string[] = [];
  for (const [backendName, kernelFunc] of [
    ['webgpu', webGpuTensorStats],
    ['webgl', webGlTensorStats],
  ] as const) {
    if (tf.getKernel(TENSOR_STATS_KERNEL, backendName)) continue;
    tf.registerKernel({ kernelName: TENSOR_STATS_KERNEL, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    added.push(backendName);
  }
  return added;
}
