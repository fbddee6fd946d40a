// Checkpoint file formats (safetensors, torch.save zips), the Hub cache client, model and adapter folders.
export type { FileDType, RawTensor } from './dtypes.js';
export { FILE_DTYPES, FILE_DTYPE_BYTES } from './dtypes.js';
export { FormatError, SafetensorsError, TorchCheckpointError, UnsafePickleError } from './errors.js';
export type { ReadOptions, TensorInfo, TensorReader } from './tensor-reader.js';
export { SafetensorsFile } from './safetensors-reader.js';
export { ShardedSafetensors, loadSafetensors } from './safetensors-sharded.js';
export { saveSafetensors } from './safetensors-writer.js';
export type { SaveableTensor } from './safetensors-writer.js';
export { loadTorchCheckpoint } from './torch-checkpoint.js';
export * from './hub/index.js';
export { openFileSource, ModelFolderError } from './file-source.js';
export type { FileSource, SourceOptions } from './file-source.js';
export { JsonFileError, readJsonObject } from './json-file.js';
export * from './model-folder.js';
export * from './adapter-folder.js';
