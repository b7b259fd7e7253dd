// A training process stand-in for the crash test: records steps to a JSONL run log as fast as it can, forever,
// and says on stdout when it has handed the first 50 to the sink. The test SIGKILLs it mid-run.
import { createJsonlFileSink } from '../src/node';
import { createRecorder } from '../src/recorder';

const path = process.argv[2]!;
const rec = createRecorder({ name: 'killed', sinks: [createJsonlFileSink(path)], config: { purpose: 'crash test' } });
const layers = Array.from({ length: 24 }, (_, i) => ({ layer: `dense_${i}`, size: 4096, norm: 1 + i, maxAbs: 0.5, nonFinite: 0, zeros: 3 }));
for (let step = 0; ; step++) {
  rec.step({
    step, variables: [], layers, globalNorm: step + 1, preClipNorm: step + 1, postClipNorm: Math.min(step + 1, 1),
    scale: 1 / (step + 1), skipped: false, maxAbs: 0.5, nonFinite: 0, size: 4096 * 24, loss: 1 / (step + 1), learningRate: 0.01,
  });
  if (step === 50) process.stdout.write('ready\n');
  if (step % 200 === 0) await new Promise((r) => setImmediate(r)); // let stdout flush
}
