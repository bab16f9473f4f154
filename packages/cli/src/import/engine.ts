// Which engine wrote a folder, from the files each one leaves beside its weights: ms-swift writes
// args.json into every checkpoint (modelscope/ms-swift@a2a5c15:examples/export/merge_lora.sh reads it
// back), LLaMA-Factory's LogCallback writes trainer_log.jsonl into output_dir
// (hiyouga/LLaMA-Factory@b230bbb:src/llamafactory/train/callbacks.py), and transformers' Trainer
// writes trainer_state.json and training_args.bin (transformers/trainer.py). `mmft handoff` leaves
// mmft-handoff.json at the bundle root, which names the target and the base model it used.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The bundle manifest fields import reads (the rest is kept as written). */
export interface HandoffManifestView {
  readonly file: string;
  /** Target id ("llamafactory", "swift", "accelerate"). */
  readonly target?: string;
  readonly engine?: string;
  /** The local base model folder the plan read (absolute). */
  readonly modelLocalPath?: string;
  /** The base model path the engine was told to use (may be relative to the bundle). */
  readonly modelPath?: string;
  readonly recipeFile?: string;
  /** Where the engine writes its result, relative to the bundle ("output"). */
  readonly output?: string;
}

/** What the folder says about who wrote it. */
export interface EngineReport {
  /** "ms-swift", "LLaMA-Factory", "Hugging Face Trainer", or "unknown". */
  readonly engine: string;
  /** The files that told (absolute). */
  readonly evidence: readonly string[];
  readonly manifest?: HandoffManifestView;
  /** trainer_state.json's global_step, when there is one. */
  readonly step?: number;
  /** ms-swift args.json's `model` (the base it trained on). */
  readonly swiftModel?: string;
}

export const MANIFEST_FILE = 'mmft-handoff.json';
const MANIFEST_LEVELS = 4;
const ENGINE_OF_TARGET: Readonly<Record<string, string>> = {
  llamafactory: 'LLaMA-Factory',
  swift: 'ms-swift',
  accelerate: 'Hugging Face accelerate',
};

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/** mmft-handoff.json (core/src/handoff/bundle.ts writes it) in `dir` or up to four folders above it. */
export function findManifest(dir: string): HandoffManifestView | undefined {
  let at = path.resolve(dir);
  for (let i = 0; i <= MANIFEST_LEVELS; i++) {
    const file = path.join(at, MANIFEST_FILE);
    const json = fs.existsSync(file) ? readJson(file) : undefined;
    if (json) {
      const target = obj(json.target);
      const plan = obj(json.plan);
      const model = { ...obj(plan.model), ...obj(json.model) };
      return {
        file,
        target: str(json.target) ?? str(target.id) ?? str(json.targetId),
        engine: str(json.engine) ?? str(target.engine),
        modelLocalPath: str(model.localPath),
        modelPath: str(model.path),
        recipeFile: str(json.recipeFile) ?? str(json.recipe) ?? str(plan.recipeFile),
        output: str(json.output),
      };
    }
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  return undefined;
}

/**
 * Looks at `source` (the folder imported) and its parents up to `given`, and for the manifest above.
 *
 * @example
 * detectEngine('out/v0-20261207-101010/checkpoint-4', 'out').engine; // 'ms-swift'
 */
export function detectEngine(source: string, given: string): EngineReport {
  const folders: string[] = [];
  for (let at = path.resolve(source); ; at = path.dirname(at)) {
    folders.push(at);
    if (at === path.resolve(given) || path.dirname(at) === at || !at.startsWith(path.resolve(given))) break;
  }
  const has = (name: string) => folders.map((f) => path.join(f, name)).filter((f) => fs.existsSync(f));
  const swift = has('args.json');
  const factory = has('trainer_log.jsonl');
  const trainer = [...has('trainer_state.json'), ...has('training_args.bin')];
  const state = has('trainer_state.json')[0];
  const stepValue = state ? readJson(state)?.global_step : undefined;
  const step = typeof stepValue === 'number' ? stepValue : undefined;
  const manifest = findManifest(given);
  const swiftModel = swift[0] ? str(readJson(swift[0])?.model) : undefined;
  let engine = 'unknown';
  let evidence: string[] = [];
  if (swift.length) [engine, evidence] = ['ms-swift', swift];
  else if (factory.length) [engine, evidence] = ['LLaMA-Factory', factory];
  else if (manifest?.target) [engine, evidence] = [ENGINE_OF_TARGET[manifest.target] ?? manifest.engine ?? manifest.target, []];
  else if (trainer.length) [engine, evidence] = ['Hugging Face Trainer', trainer];
  if (manifest) evidence = [...evidence, manifest.file];
  return { engine, evidence, manifest, step, swiftModel };
}
