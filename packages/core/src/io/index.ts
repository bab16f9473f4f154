// Safetensors I/O for mmft: read (single file, in memory, or a sharded checkpoint folder),
// write atomically, and move tensors between files and a Module's state dict; write whole folders
// atomically (writeFolder) and check an output folder before replacing it (checkOutputFolder).

export { SUPPORTED_DTYPES, isSafetensorsDtype, type SafetensorsDtype, type TensorData } from './dtypes';
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';
export type { WritableData } from './codec';
export { parseSafetensors, readSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors';
export { serializeSafetensors, writeSafetensors, type WritableTensor, type WritableTensors } from './safetensors-write';
export { readShardedSafetensors, type ReadShardedOptions, type ShardedSafetensors } from './sharded';
export { loadTensorsIntoModule, tensorsFromModule, type TensorsFromModuleOptions } from './module-tensors';
export { writeFileAtomic } from './atomic-write';
export { ioError } from './io-error';
export { readTensorFile, writeTensorFile, type StoredTensor } from './tensor-file';
export { FOLDER_MARKER, readFolderMarker, type FolderMarker } from './folder-marker';
export { recoverFolder, type FolderRecovery } from './folder-recover';
export { writeFileDurable, writeFolder, type WriteFolderOptions } from './folder-write';
export {
  checkOutputFile,
  checkOutputFolder,
  isSameOrInside,
  listEntries,
  type OutputFolderCheck,
  type OutputFolderOptions,
  type ProtectedPath,
} from './output-folder';
