// Test fixtures of @mmft/arch-llava: a tiny checkpoint (both key layouts) over core's test towers.
export { tinyLlava, tinyLlavaConfig, tinyLlavaContext, writeTinyLlavaCheckpoint } from './tiny-checkpoint';
