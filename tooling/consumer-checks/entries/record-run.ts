// A browser page that records a run in memory (e.g. to chart it live): only the writer path of the reporter.
import { createMemorySink, createRecorder } from '@gradguard/reporter';

const sink = createMemorySink();
const recorder = createRecorder({ name: 'demo', sinks: [sink] });
recorder.step({ step: 0, layers: [], preClipNorm: 1, postClipNorm: 1, scale: 1, skipped: false, nonFinite: 0, loss: 0.5 } as never);
await recorder.end('completed');
console.log(sink.log.steps.length);
