// Learning-rate multipliers per optimizer step: linear warmup, then cosine, linear or constant
// decay, as transformers/optimization.py (get_cosine_schedule_with_warmup with num_cycles 0.5,
// get_linear_schedule_with_warmup, get_constant_schedule_with_warmup) computes them.

export type ScheduleKind = 'cosine' | 'linear' | 'constant';

/**
 * Multiplier of the peak lr used for the update with 0-based index `step` (HF's LambdaLR
 * `current_step`: the first update uses step 0, so warmup starts from lr 0).
 *
 * @example
 * lrMultiplier('cosine', 0, 10, 100); // 0
 * lrMultiplier('cosine', 10, 10, 100); // 1
 */
export function lrMultiplier(kind: ScheduleKind, step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (kind === 'constant') return 1;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (kind === 'linear') return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
