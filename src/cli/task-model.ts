// Loading a task's model, and the class labels that travel with a classification adapter. PEFT saves
// only the adapter, so a user reloading it passes the labels to from_pretrained as keyword arguments;
// `labels.json` in the adapter folder holds exactly those (num_labels, id2label, label2id), so that
// `AutoModelForSequenceClassification.from_pretrained(base, **json.load(open("labels.json")))`
// rebuilds the head the adapter's modules_to_save weights fit.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from '../io/atomic-write.js';
import { JsonFileError, readJsonObject } from '../io/json-file.js';
import { resolveModelFolder } from '../io/model-folder.js';
import { loadPretrained, type AutoModelClass, type PreTrainedModel } from '../models/index.js';
import { LabelMap } from '../train/data/label-map.js';

export const LABELS_FILE = 'labels.json';

export function writeLabels(dir: string, labels: LabelMap): void {
  writeTextAtomic(join(dir, LABELS_FILE), `${JSON.stringify({ num_labels: labels.size, ...labels.toConfig() }, null, 2)}\n`);
}

/** The labels saved in a folder's labels.json; null when it has none. */
export function readLabels(dir: string): LabelMap | null {
  const path = join(dir, LABELS_FILE);
  if (!existsSync(path)) return null;
  const saved = readJsonObject(path);
  const id2label = saved['id2label'];
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) throw new JsonFileError(path, `"id2label" must be an object mapping "0", "1", … to label names, got ${JSON.stringify(id2label)}`);
  let labels: LabelMap;
  try {
    labels = LabelMap.fromConfig({ id2label: id2label as Record<string, string> });
  } catch (e) {
    throw new JsonFileError(path, (e as Error).message, { cause: e });
  }
  if (saved['num_labels'] !== undefined && saved['num_labels'] !== labels.size) throw new JsonFileError(path, `"num_labels" is ${JSON.stringify(saved['num_labels'])} but "id2label" names ${labels.size} labels`);
  return labels;
}

/** The labels a model folder's config.json declares (id2label, as a merged classifier's has), or null when it declares none. */
export async function modelFolderLabels(modelDir: string): Promise<LabelMap | null> {
  const { config, configPath } = await resolveModelFolder(modelDir);
  const id2label = config['id2label'];
  if (id2label === undefined) return null;
  try {
    return LabelMap.fromConfig({ id2label: id2label as Record<string, string> });
  } catch (e) {
    throw new JsonFileError(configPath, (e as Error).message, { cause: e });
  }
}

/** A model folder loaded by an Auto class, its config given the labels first as from_pretrained's keyword arguments would. */
export function loadTaskModel(auto: AutoModelClass, modelDir: string, labels: LabelMap | null): Promise<PreTrainedModel> {
  if (labels === null) return auto.fromPretrained(modelDir);
  return loadPretrained(modelDir, (raw, source) => auto.fromConfig({ ...raw, num_labels: labels.size, ...labels.toConfig() }, source));
}
