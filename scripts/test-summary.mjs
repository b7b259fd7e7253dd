// Sums every package's Vitest JSON result into one closing line, so one glance (and CI) sees the whole suite.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps', 'tooling']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const dir = join(group, name);
    const pkgPath = join(dir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const resultPath = join(dir, '.vitest-result.json');
    if (!existsSync(resultPath)) {
      missing.push(pkg.name);
      continue;
    }
    const r = JSON.parse(readFileSync(resultPath, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    console.log(`${pkg.name.padEnd(32)} ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}
for (const name of missing) console.log(`${name.padEnd(32)} no result (its test run did not finish)`);
console.log(`tests: ${passed} passed, ${failed + missing.length} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed + missing.length + skipped > 0 ? 1 : 0);
