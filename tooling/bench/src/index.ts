// What `gradguard bench` reuses from the harness: the same models, configurations and interleaved measurement.
export { CONFIG_NAMES, type ConfigName } from './configs';
export { type ModelResult, type ConfigResult, measureModel } from './measure';
export { MODELS, getModel, type BenchModel } from './models';
