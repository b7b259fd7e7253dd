// A page that turns a run into TensorBoard event bytes: the encoder's subpath, where protobufjs belongs.
import { encodeTensorBoardEvent, encodeTfRecord, fileVersionEvent } from '@gradguard/reporter/tensorboard';

const header = { type: 'header', version: 1, runId: 'r1', name: 'demo', startedAt: '2026-01-01T00:00:00Z' } as const;
console.log(encodeTfRecord(encodeTensorBoardEvent(fileVersionEvent(header as never))).length);
