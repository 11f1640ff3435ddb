// Where the model bundle comes from: --model, else models/default/ in this repository (the small
// trained model that ships with it, training/README.md). A checkout without it gets a clear error.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';
import { readModelBundle, type LoadedModel } from './readBundle.ts';

/** models/default/ of this repository, or the folder HYPENCODER_DEFAULT_MODEL names (a site's own model). */
export const DEFAULT_MODEL_DIR = process.env.HYPENCODER_DEFAULT_MODEL
  ? path.resolve(process.env.HYPENCODER_DEFAULT_MODEL)
  : fileURLToPath(new URL('../../models/default/', import.meta.url));

export function resolveModelDir(option: string | undefined): string {
  if (option) {
    if (!existsSync(path.join(option, 'model.json')))
      throw new CliError(`--model ${option}: no model.json there (a model bundle folder holds model.json, query_encoder.onnx, doc_encoder.onnx, vocab.txt)`, 2);
    return option;
  }
  if (!existsSync(path.join(DEFAULT_MODEL_DIR, 'model.json'))) {
    throw new CliError(
      `no model given and no default model at ${path.relative(process.cwd(), DEFAULT_MODEL_DIR) || DEFAULT_MODEL_DIR} (it ships with the repository; restore it with \`git checkout models/default\` or retrain, training/README.md): ` +
        'pass --model <model bundle dir>, e.g. one made by `hypencoder-web convert <checkpoint> --out <dir>`',
      2,
    );
  }
  return DEFAULT_MODEL_DIR;
}

/** Reads and verifies the bundle; refuses a synthetic model (it has no encoders). */
export async function loadModelWithEncoders(dir: string): Promise<LoadedModel> {
  let m: LoadedModel;
  try {
    m = await readModelBundle(dir);
  } catch (e) {
    throw new CliError(`model ${dir}: ${(e as Error).message}`, 2);
  }
  if (!m.model.encoders) throw new CliError(`model ${dir}: ${m.model.id} is a synthetic model without encoders; it cannot encode documents or queries`, 2);
  return m;
}
