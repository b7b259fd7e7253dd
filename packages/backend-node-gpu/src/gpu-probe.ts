import { execFile } from 'node:child_process';

/** One NVIDIA GPU as `nvidia-smi` reports it. */
export interface GpuDevice {
  readonly index: number;
  readonly name: string;
  /** Total memory in MiB. */
  readonly memoryMiB: number;
  readonly driverVersion: string;
}

/** Whether a CUDA GPU is visible to this process, with the devices or the reason none is. */
export type GpuProbe =
  | { readonly visible: true; readonly devices: readonly GpuDevice[] }
  | { readonly visible: false; readonly reason: string };

export interface ProbeNvidiaGpusOptions {
  /** Environment to read `CUDA_VISIBLE_DEVICES` and `PATH` from. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** The `nvidia-smi` executable. Default `'nvidia-smi'`, looked up on `PATH`. */
  readonly command?: string;
  /** Milliseconds to wait for `nvidia-smi`. Default 10 000. */
  readonly timeoutMs?: number;
}

const QUERY = ['--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader,nounits'];

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const line of csv.split('\n')) {
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length < 4 || cols[0] === '' || !/^\d+$/.test(cols[0]!)) continue;
    devices.push({ index: Number(cols[0]), name: cols[1]!, memoryMiB: Number(cols[2]), driverVersion: cols[3]! });
  }
  return devices;
}

/**
 * Asks the NVIDIA driver, through `nvidia-smi`, which GPUs exist, honouring `CUDA_VISIBLE_DEVICES` the way CUDA does
 * (empty or `-1` hides every device; a list keeps only those indices). Cheap, and it loads no CUDA library, so it is
 * run before deciding to load `@tensorflow/tfjs-node-gpu`.
 */
export function probeNvidiaGpus(options: ProbeNvidiaGpusOptions = {}): Promise<GpuProbe> {
  const env = options.env ?? process.env;
  const visibleList = env.CUDA_VISIBLE_DEVICES;
  if (visibleList !== undefined && (visibleList.trim() === '' || visibleList.trim() === '-1')) {
    return Promise.resolve({
      visible: false,
      reason: `CUDA_VISIBLE_DEVICES=${JSON.stringify(visibleList)} hides every GPU from this process`,
    });
  }
  return new Promise((resolve) => {
    execFile(
      options.command ?? 'nvidia-smi',
      QUERY,
      { env, timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          resolve({
            visible: false,
            reason:
              code === 'ENOENT'
                ? 'nvidia-smi was not found on PATH (no NVIDIA driver installed)'
                : `nvidia-smi failed: ${(stderr || error.message).trim().split('\n')[0]}`,
          });
          return;
        }
        let devices = parseNvidiaSmi(stdout);
        if (visibleList !== undefined) {
          const keep = new Set(visibleList.split(',').map((s) => s.trim()));
          devices = devices.filter((d) => keep.has(String(d.index)));
        }
        resolve(
          devices.length > 0
            ? { visible: true, devices }
            : { visible: false, reason: 'nvidia-smi lists no GPU visible to this process' },
        );
      },
    );
  });
}
