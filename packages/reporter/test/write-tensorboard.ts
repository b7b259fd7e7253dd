// A training process stand-in for the concurrent TensorBoard test: at an agreed wall-clock moment it opens two event
// writers in one `--tensorboard` directory, as two runs of one process would, and writes steps to both in turns. Every
// run's header carries the same start second (`startedAt` ms) as the other processes' runs, the case that used to
// collide. The loss of step s of writer w in process p is p*100 + w*10 + s, so each file can be traced to its run.
// Prints the paths it wrote, one JSON array on stdout.
import { createTensorBoardSink } from '../src/node';
import { createRecorder } from '../src/recorder';

const [dir, proc, goAt, startedAt] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
while (Date.now() < goAt); // busy-wait: every process opens its files within the same millisecond or so
const sinks = [0, 1].map(() => createTensorBoardSink(dir));
const recs = sinks.map((sink, w) => createRecorder({ name: `p${proc}w${w}`, sinks: [sink], now: () => startedAt }));
for (let step = 0; step < 8; step++) {
  recs.forEach((rec, w) => {
    const loss = proc * 100 + w * 10 + step;
    rec.step({
      step, variables: [], layers: [{ layer: 'dense', size: 4, norm: loss, maxAbs: 1, nonFinite: 0, zeros: 0 }],
      globalNorm: loss, preClipNorm: loss, postClipNorm: loss, scale: 1, skipped: false, maxAbs: 1, nonFinite: 0, size: 4, loss, learningRate: 0.01,
    });
  });
  await new Promise((r) => setTimeout(r, 2)); // let the other processes write in between
}
for (const rec of recs) await rec.end('completed');
process.stdout.write(`${JSON.stringify(sinks.map((s) => s.path))}\n`);
