// `@gradguard/reporter/tensorboard`: the TensorBoard event encoder, bytes in memory (browser-safe, no Node built-ins).
// Its own entry because it carries protobufjs and long (~100 KB minified): a page that only records a run
// (`createRecorder` + `createMemorySink` from the main entry) never loads them. The file sink is in `/node`.
export {
  TENSORBOARD_FILE_VERSION,
  encodeTensorBoardEvent,
  encodeTfRecord,
  maskedCrc32c,
  histogramOf,
  stepToTensorBoardEvent,
  fileVersionEvent,
  wallTimeOf,
} from './tensorboard';
export type { TensorBoardEvent, TensorBoardValue, TensorBoardHistogram, LayerValues } from './tensorboard';
