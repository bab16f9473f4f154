// The one place this plugin imports core's safetensors I/O (packages/core/src/io), so the import
// path is a one-line change if core moves it.
export { loadTensorsIntoModule, readShardedSafetensors, tensorsFromModule, writeSafetensors, type SafetensorsTensor } from '@mmft/core/io';
