// The tensorboard reporter's settings: none yet (its folder is fixed, <output_dir>/tensorboard, so
// `tensorboard --logdir runs/<run>` finds it as it finds HF Trainer's runs).
import { z } from 'zod';

export const tensorboardConfigSchema = z.strictObject({}).describe('TensorBoard event files in <output_dir>/tensorboard');
export type TensorboardConfig = z.output<typeof tensorboardConfigSchema>;
