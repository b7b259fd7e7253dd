// A training process stand-in for the crash test: hands 37 step records to a buffered JSONL sink (far inside its
// flush deadline), then dies of an uncaught exception. The exit hook must write them before the process is gone.
import { createJsonlFileSink } from '../src/node';
import { createRecorder } from '../src/recorder';

const path = process.argv[2]!;
const rec = createRecorder({ name: 'thrown', sinks: [createJsonlFileSink(path, { flushMs: 60_000 })], config: {} });
const layers = [{ layer: 'dense', size: 64, norm: 1, maxAbs: 0.5, nonFinite: 0, zeros: 0 }];
for (let step = 0; step < 37; step++) {
  rec.step({
    step, variables: [], layers, globalNorm: 1, preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false,
    maxAbs: 0.5, nonFinite: 0, size: 64, loss: 1 / (step + 1), learningRate: 0.01,
  });
}
throw new Error('the training script crashed at step 37');
