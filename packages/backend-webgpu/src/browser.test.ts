// The WebGPU adapter in a real browser: Debian's headless Chromium, whose SwiftShader gives a real WebGPU adapter with
// --enable-unsafe-webgpu (and WebGL through ANGLE). The page is bundled with esbuild and served from localhost.
// Needs /usr/bin/chromium and libvulkan1 (scripts/setup.mjs installs them); CHROMIUM_PATH overrides the executable.
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import {
  type ContractResult,
  compareContractResults,
  CONTRACT_TOLERANCE,
} from '@gradguard/vitest-config/backend-contract';
import { expectContractInvariants } from '@gradguard/vitest-config/backend-contract-vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@gradguard/vitest-config/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserApi } from './browser-page.fixture';
import type { WebBackendChoice } from './use-webgpu-backend';

const here = path.dirname(fileURLToPath(import.meta.url));

let server: Server;
let origin = '';
const browsers: Browser[] = [];

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [path.join(here, 'browser-page.fixture.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gradguard/source'],
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>gradguard webgpu</title><script src="/page.js"></script>';
  server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await Promise.all(browsers.map((b) => b.close()));
  await new Promise((resolve) => server?.close(resolve));
});

async function openPage(args: string[]) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...args],
  });
  browsers.push(browser);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'gradguard' in globalThis);
  expect(errors).toEqual([]);
  const call = <K extends keyof BrowserApi>(name: K, arg?: WebBackendChoice) =>
    page.evaluate(
      ([n, a]) => (globalThis as unknown as { gradguard: Record<string, (x?: unknown) => unknown> }).gradguard[n]!(a),
      [name, arg] as const,
    ) as ReturnType<BrowserApi[K]>;
  return { page, call };
}

function expectMatchesCpu(actual: ContractResult, reference: ContractResult): number {
  expectContractInvariants(reference);
  expectContractInvariants(actual);
  const cmp = compareContractResults(actual, reference);
  expect(cmp.mismatches).toEqual([]);
  return cmp.maxDeviation;
}

describe('Chromium with --enable-unsafe-webgpu (SwiftShader)', () => {
  let call: Awaited<ReturnType<typeof openPage>>['call'];
  beforeAll(async () => {
    ({ call } = await openPage(['--enable-unsafe-webgpu']));
  });

  it('has a real WebGPU adapter (a missing flag or driver fails here, not later)', async () => {
    expect(await call('adapterInfo')).toEqual({ navigatorGpu: true, architecture: 'swiftshader', vendor: 'google' });
  });

  it('activates webgpu and reports the adapter', async () => {
    const { report } = (await call('use', 'auto')) as { report: NonNullable<unknown> & { backend: string } };
    expect(report).toMatchObject({
      backend: 'webgpu',
      requested: 'auto',
      skipped: [],
      adapter: { vendor: 'google', architecture: 'swiftshader' },
    });
  });

  it(`runs the backend contract on webgpu within ${CONTRACT_TOLERANCE} of cpu, leak-free`, async () => {
    const { report, reference, actual } = await call('contract', 'webgpu');
    expect(report.backend).toBe('webgpu');
    const dev = expectMatchesCpu(actual, reference);
    console.info(`browser webgpu contract: max deviation ${dev.toExponential(2)}, steps ${actual.stepMs.map((m) => m.toFixed(0)).join('/')} ms`);
  });

  it.each(['webgpu', 'webgl'] as const)('%s: the statistics contract (device kernel) agrees with the float64 reference, leak-free', async (backend) => {
    const r = await call('statsContract', backend);
    expect(r).toEqual({ backend, mismatches: [], leaked: 0 });
  });

  // SwiftShader is not a speed reference: what this measures is how many programs a measured step dispatches.
  it.each(['webgpu', 'webgl'] as const)('%s: statistics take the one-program kernel (few programs, the contract, equal to the fused graph, leak-free)', async (backend) => {
    const r = await call('statsProgram', backend);
    console.info(
      `${backend} statistics, ${r.variables} variables + their weights: program kernel ${r.program.programs} programs (bound ${r.expectedPrograms}, ${r.packed} packed inputs read in place) ` +
        `(${r.program.kernelNames.join(', ')}); fused-op fallback ${r.fallback.programs} programs from ${r.fallback.kernels} tfjs kernels; ` +
        `global norm ${r.globalNorm.join(' vs ')}`,
    );
    expect(r.backend).toBe(backend);
    expect(r.registered).toBe(true);
    expect(r.mismatches).toEqual({ program: [], fallback: [] });
    expect(r.disagreements).toEqual([]);
    expect(r.leaked).toBe(0);
    expect(r.program.kernelNames).toEqual(['GradguardTensorStats']);
    expect(r.program.programs).toBeLessThanOrEqual(r.expectedPrograms);
    expect(r.fallback.programs).toBeGreaterThan(5 * r.program.programs);
  });

  it.each(['webgpu', 'webgl'] as const)('%s: the statistics kernel matches the reference on packed, odd, batched, non-finite and long tensors', async (backend) => {
    const r = await call('kernelDirect', backend);
    expect(r.backend).toBe(backend);
    // WebGL keeps matMul's outputs packed: those are read in place (2×2 blocks, padding skipped).
    if (backend === 'webgl') expect(r.packed.slice(0, 3)).toEqual([true, true, true]);
    expect(r.mismatches).toEqual([]);
    expect(r.leaked).toBe(0);
  });

  it.each(['webgpu', 'webgl'] as const)('%s: skipNonFinite gated on the device is an exact skip for Adam', async (backend) => {
    const r = await call('exactSkip', backend);
    expect(r.backend).toBe(backend);
    expect(r.skipped.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < 2; i++) expect(r.skipped[i]).toBeCloseTo(r.clean[i]!, 6);
  });

  it(`runs the backend contract on webgl within ${CONTRACT_TOLERANCE} of cpu, leak-free`, async () => {
    const { report, reference, actual } = await call('contract', 'webgl');
    expect(report.backend).toBe('webgl');
    const dev = expectMatchesCpu(actual, reference);
    console.info(`browser webgl contract: max deviation ${dev.toExponential(2)}; notes: ${report.notes.join(' ')}`);
  });
});

describe('Chromium without --enable-unsafe-webgpu', () => {
  let call: Awaited<ReturnType<typeof openPage>>['call'];
  beforeAll(async () => {
    ({ call } = await openPage([]));
  });

  it('falls back to webgl and says why webgpu was skipped', async () => {
    const { report } = (await call('use', 'auto')) as { report: { backend: string; skipped: { backend: string; reason: string; detail: string }[] } };
    expect(report.backend).toBe('webgl');
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]!.backend).toBe('webgpu');
    // Chromium exposes navigator.gpu on a secure origin (localhost) but gives no adapter without the flag.
    expect(report.skipped[0]!.reason).toBe('no-adapter');
    expect(report.skipped[0]!.detail).toContain('requestAdapter() returned null');
    expect(report.skipped[0]!.detail).toContain('--enable-unsafe-webgpu');
  });

  it("'webgpu' rejects with BACKEND_UNAVAILABLE naming the package", async () => {
    const { error } = (await call('use', 'webgpu')) as { error: { code: string; message: string } };
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain("The 'webgpu' backend is unavailable");
    expect(error.message).toContain('@tensorflow/tfjs-backend-webgpu@4.22.0');
  });
});
