// Which model a request names, among those `mmft serve` serves, and how long each engine lives: an
// engine a reload no longer serves closes once the last request holding it ends (server.ts, routes.ts).
import { MmftError } from '@mmft/core';
import { ApiError } from './api-error';
import type { InferenceEngine, ServedModel } from './engine';

/** Refuses two served models of the same name. */
export function checkNames(models: readonly ServedModel[]): void {
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name))
      throw new MmftError('E_CONFIG', `serve: two models are named "${m.name}"`, { hint: 'give each --model a different name' });
    names.add(m.name);
  }
}

/** The served model a request's `model` field names; absent, the only one of its kind. */
export function pick(models: readonly ServedModel[], name: unknown, kind: 'chat' | 'embeddings'): ServedModel {
  const ofKind = models.filter((m) => m.engine.kind === kind);
  if (name === undefined) {
    if (ofKind.length === 1) return ofKind[0]!;
    throw new ApiError(
      400,
      `model: required; this server has ${ofKind.length} ${kind} models (${ofKind.map((m) => m.name).join(', ') || 'none'})`,
      {
        param: 'model',
        code: 'model_required',
      },
    );
  }
  const found = models.find((m) => m.name === name);
  if (!found)
    throw new ApiError(404, `model: "${String(name)}" is not served here; models: ${models.map((m) => m.name).join(', ')}`, {
      param: 'model',
      code: 'model_not_found',
    });
  if (found.engine.kind !== kind)
    throw new ApiError(
      400,
      `model: "${found.name}" is ${found.engine.kind === 'chat' ? 'a chat model' : 'an embeddings model'}; use ${found.engine.kind === 'chat' ? '/v1/chat/completions' : '/v1/embeddings'}`,
      {
        param: 'model',
        code: 'wrong_model_kind',
      },
    );
  return found;
}

/** Requests per engine, and the engines a reload retired while requests still held them. */
export interface EngineHolds {
  /** Counts a request on `engine`; the returned function (idempotent) lets it go. */
  hold(engine: InferenceEngine): () => void;
  readonly inUse: ReadonlyMap<InferenceEngine, number>;
  /** Engines no longer served that close when their last request lets go. */
  readonly retired: Set<InferenceEngine>;
}

/**
 * @example
 * const holds = engineHolds();
 * const letGo = holds.hold(engine); // … the request runs …
 * letGo();
 */
export function engineHolds(): EngineHolds {
  const inUse = new Map<InferenceEngine, number>();
  const retired = new Set<InferenceEngine>();
  const hold = (engine: InferenceEngine): (() => void) => {
    inUse.set(engine, (inUse.get(engine) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (inUse.get(engine) ?? 1) - 1;
      if (left > 0) inUse.set(engine, left);
      else {
        inUse.delete(engine);
        if (retired.delete(engine)) void engine.close();
      }
    };
  };
  return { hold, inUse, retired };
}
