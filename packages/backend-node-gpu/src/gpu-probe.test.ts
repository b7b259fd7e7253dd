import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNvidiaSmi, probeNvidiaGpus } from './gpu-probe';

// nvidia-smi's real output for this query on a two-GPU machine.
const TWO_GPUS = '0, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n1, NVIDIA A100-SXM4-40GB, 40960, 550.54.15\n';

const dir = mkdtempSync(path.join(tmpdir(), 'gradguard-smi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real executable standing in for nvidia-smi: prints `stdout`, exits with `code`. */
function fakeSmi(name: string, stdout: string, code = 0, stderr = ''): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\nprintf '%s' '${stdout}'\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('parseNvidiaSmi', () => {
  it('reads index, name, memory and driver of each GPU, ignoring blank lines', () => {
    expect(parseNvidiaSmi(`${TWO_GPUS}\n`)).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, driverVersion: '550.54.15' },
      { index: 1, name: 'NVIDIA A100-SXM4-40GB', memoryMiB: 40960, driverVersion: '550.54.15' },
    ]);
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([]);
  });
});

describe('probeNvidiaGpus', () => {
  it('lists the GPUs nvidia-smi reports', async () => {
    const probe = await probeNvidiaGpus({ command: fakeSmi('smi-two', TWO_GPUS), env: {} });
    expect(probe.visible && probe.devices.map((d) => d.name)).toEqual(['NVIDIA H100 80GB HBM3', 'NVIDIA A100-SXM4-40GB']);
  });

  it('keeps only the devices CUDA_VISIBLE_DEVICES names', async () => {
    const probe = await probeNvidiaGpus({ command: fakeSmi('smi-two-b', TWO_GPUS), env: { CUDA_VISIBLE_DEVICES: '1' } });
    expect(probe.visible && probe.devices.map((d) => d.index)).toEqual([1]);
  });

  it('sees no GPU when CUDA_VISIBLE_DEVICES hides them all, without running nvidia-smi', async () => {
    for (const hide of ['', '-1']) {
      const probe = await probeNvidiaGpus({ command: path.join(dir, 'never-run'), env: { CUDA_VISIBLE_DEVICES: hide } });
      expect(probe).toEqual({ visible: false, reason: `CUDA_VISIBLE_DEVICES=${JSON.stringify(hide)} hides every GPU from this process` });
    }
  });

  it('says the driver is missing when nvidia-smi is not on PATH', async () => {
    const probe = await probeNvidiaGpus({ env: { PATH: dir } });
    expect(probe).toEqual({ visible: false, reason: 'nvidia-smi was not found on PATH (no NVIDIA driver installed)' });
  });

  it('quotes nvidia-smi when it fails', async () => {
    const msg = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
    const probe = await probeNvidiaGpus({ command: fakeSmi('smi-broken', '', 9, msg.replace("'", '')), env: {} });
    expect(probe).toEqual({ visible: false, reason: `nvidia-smi failed: ${msg.replace("'", '')}` });
  });

  it('agrees with this machine: GPUs exactly when the real nvidia-smi lists some', async () => {
    const real = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
    const { CUDA_VISIBLE_DEVICES: _hidden, ...env } = process.env;
    const probe = await probeNvidiaGpus({ env });
    if (real.error) {
      expect(probe).toEqual({ visible: false, reason: 'nvidia-smi was not found on PATH (no NVIDIA driver installed)' });
    } else {
      const listed = real.stdout.split('\n').filter((l) => l.startsWith('GPU ')).length;
      expect(probe.visible ? probe.devices.length : 0).toBe(listed);
    }
  });
});
