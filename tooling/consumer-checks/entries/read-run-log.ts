// A page that reads a run log it was handed (untrusted text): this is where the validator, and zod, belong.
import { parseRunLog } from '@gradguard/core/run-log';

const text = '{"type":"header","version":1,"runId":"r1","name":"demo","startedAt":"2026-01-01T00:00:00Z"}\n';
console.log(parseRunLog(text).header.name);
