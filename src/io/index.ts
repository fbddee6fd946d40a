// Checkpoint file formats: safetensors (read, write, sharded) and torch.save zip checkpoints.
export type { FileDType, RawTensor } from './dtypes.js';
export { FILE_DTYPES, FILE_DTYPE_BYTES } from './dtypes.js';
export { FormatError, SafetensorsError, TorchCheckpointError, UnsafePickleError } from './errors.js';
export type { ReadOptions, TensorInfo, TensorReader } from './tensor-reader.js';
export { SafetensorsFile } from './safetensors-reader.js';
export { ShardedSafetensors, loadSafetensors } from './safetensors-sharded.js';
export { saveSafetensors } from './safetensors-writer.js';
export type { SaveableTensor } from './safetensors-writer.js';
export { loadTorchCheckpoint } from './torch-checkpoint.js';
