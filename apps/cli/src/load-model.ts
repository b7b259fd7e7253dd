import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from './errors';

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/**
 * An IOHandler that reads a tfjs LayersModel saved as `model.json` plus its binary weight shards from disk, so Node
 * can load it without @tensorflow/tfjs-node (whose `file://` handler is the only built-in one). Shards are
 * concatenated in manifest order, as `tf.io.browserFiles` and the HTTP loader do.
 */
export function fileModelHandler(path: string): tf.io.IOHandler {
  return {
    async load() {
      let json: ModelJson;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new UsageError(code === 'ENOENT' ? `no such model file: ${path}.` : `cannot read ${path}: ${(e as Error).message}.`, 'Pass the model.json that model.save() wrote.');
      }
      try {
        json = JSON.parse(text) as ModelJson;
      } catch {
        throw new UsageError(`${path} is not JSON.`, 'Pass the model.json that model.save() wrote (tfjs LayersModel format).');
      }
      if (!json || typeof json !== 'object' || json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
        throw new UsageError(`${path} is not a tfjs LayersModel: it needs "modelTopology" and "weightsManifest".`, 'Save the model with model.save(...) from @tensorflow/tfjs (a graph model from the converter cannot be inspected).');
      }
      const dir = dirname(resolve(path));
      const buffers: Uint8Array[] = [];
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths) {
          const file = resolve(dir, p);
          try {
            statSync(file);
          } catch {
            throw new UsageError(`weight file ${JSON.stringify(p)} listed in ${path} is missing (looked for ${file}).`, 'Copy every weight shard next to model.json, as model.save() wrote them.');
          }
          buffers.push(new Uint8Array(readFileSync(file)));
        }
        weightSpecs.push(...group.weights);
      }
      const total = buffers.reduce((a, b) => a + b.length, 0);
      const expected = weightSpecs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4), 0);
      if (!weightSpecs.some((w) => w.quantization) && total !== expected) {
        throw new UsageError(`the weight files of ${path} hold ${total} bytes, but its manifest needs ${expected}.`, 'A shard is truncated or from another model: save the model again.');
      }
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.length;
      }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs,
        weightData: weightData.buffer,
        ...(json.format !== undefined ? { format: json.format } : {}),
        ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
        ...(json.convertedBy != null ? { convertedBy: json.convertedBy } : {}),
      };
    },
  };
}

/** Loads a saved LayersModel from `model.json` on disk. */
export async function loadModelFile(path: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(fileModelHandler(path));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot build the model in ${path}: ${(e as Error).message}`, 'Is it a tfjs LayersModel saved with model.save()? Custom layers must be registered first.');
  }
}
