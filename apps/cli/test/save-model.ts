import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * Saves `model` as a user would ship it: `model.json` (topology + weights manifest) and one binary shard,
 * in the format `model.save('file://...')` of tfjs-node writes. Returns the path of model.json.
 */
export async function saveModelFiles(model: tf.LayersModel, dir: string, shard = 'group1-shard1of1.bin'): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]);
      writeFileSync(join(dir, shard), new Uint8Array(data));
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: [shard], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(dir, 'model.json');
}
