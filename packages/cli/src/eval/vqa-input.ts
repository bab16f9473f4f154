// Inputs of `mmft eval vqa`: our JSONL ({"id","answer"} / {"id","answers",…}) or the VQA v2
// layouts: results [{"question_id","answer"}], annotations {"annotations": [{"question_id",
// "answers": [{"answer"}], "answer_type", "question_type"}]} and questions {"questions": [...]}.
import { MmftError } from '@mmft/core';
import type { Keyed } from './pair';
import { Problems, throwIfAnyProblems } from './problems';
import { idOf, readRecords } from './read-records';

/** The reference side of one question. */
export interface VqaReference {
  readonly answers: string[];
  readonly answerType?: string;
  readonly questionType?: string;
  readonly question?: string;
}

function entries(file: string, cwd: string, listKey: string): { value: Record<string, unknown>; where: string }[] {
  const content = readRecords(file, cwd, (v) => 'id' in v);
  if (content.kind === 'jsonl') return content.records;
  const doc = content.value as Record<string, unknown> | unknown[];
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? doc[listKey] : undefined;
  if (!Array.isArray(list)) {
    throw new MmftError('E_INPUT', `${file}: not a layout mmft eval knows (JSONL, a JSON array, or an object with "${listKey}")`, {
      hint: 'see docs/metrics.md for the accepted file layouts',
    });
  }
  const prefix = Array.isArray(doc) ? '' : `${listKey}.`;
  return list.map((value, i) => ({ value: (value ?? {}) as Record<string, unknown>, where: `${file}[${prefix}${i}]` }));
}

const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Predictions: JSONL {"id","answer"} or VQA results [{"question_id","answer"}]. */
export function loadVqaPredictions(file: string, cwd: string): Keyed<string>[] {
  const invalid = new Problems(`invalid records in ${file}`, 'each prediction needs "id" (or "question_id") and a string "answer"');
  const out: Keyed<string>[] = [];
  for (const { value, where } of entries(file, cwd, 'annotations')) {
    const id = idOf(value.id ?? value.question_id);
    if (id === undefined) invalid.add(`${where} (missing "id")`);
    else if (typeof value.answer !== 'string') invalid.add(`${where} (id "${id}": "answer" is not a string)`);
    else out.push({ id, where, value: value.answer });
  }
  throwIfAnyProblems([invalid]);
  return out;
}

/**
 * References: JSONL or VQA v2 annotations; `questionsFile` (VQA v2 questions) adds the question
 * text and must cover exactly the annotated question ids.
 */
export function loadVqaReferences(file: string, cwd: string, questionsFile?: string): Keyed<VqaReference>[] {
  const invalid = new Problems(
    `invalid records in ${file}`,
    'each reference needs "id" (or "question_id") and "answers": a list of strings (or VQA {"answer"} objects)',
  );
  const empty = new Problems(`empty answer lists in ${file}`, 'every question needs its human answers (10 in VQA v2)');
  const out: Keyed<VqaReference>[] = [];
  for (const { value, where } of entries(file, cwd, 'annotations')) {
    const id = idOf(value.id ?? value.question_id);
    const raw = value.answers;
    const answers = Array.isArray(raw)
      ? raw.map((a) => (typeof a === 'string' ? a : (a as { answer?: unknown } | null)?.answer))
      : undefined;
    if (id === undefined) invalid.add(`${where} (missing "id")`);
    else if (!answers || !answers.every((a): a is string => typeof a === 'string'))
      invalid.add(`${where} (id "${id}": "answers" is not a list of strings)`);
    else if (answers.length === 0) empty.add(`${where} (id "${id}")`);
    else {
      const reference: VqaReference = {
        answers,
        answerType: optionalString(value.answer_type),
        questionType: optionalString(value.question_type),
        question: optionalString(value.question),
      };
      out.push({ id, where, value: reference });
    }
  }
  throwIfAnyProblems([invalid, empty]);
  return questionsFile ? withQuestions(out, questionsFile, cwd) : out;
}

function withQuestions(refs: Keyed<VqaReference>[], file: string, cwd: string): Keyed<VqaReference>[] {
  const questions = new Map<string, string>();
  const invalid = new Problems(`invalid records in ${file}`, 'each question needs "question_id" and a string "question"');
  for (const { value, where } of entries(file, cwd, 'questions')) {
    const id = idOf(value.question_id ?? value.id);
    if (id === undefined || typeof value.question !== 'string') invalid.add(where);
    else questions.set(id, value.question);
  }
  const missing = new Problems(`annotated questions missing from ${file}`, 'use the questions file of the same split as the annotations');
  const merged = refs.map((ref) => {
    const question = questions.get(ref.id);
    if (question === undefined) missing.add(`${ref.where} (question_id ${ref.id})`);
    return { ...ref, value: { ...ref.value, question: question ?? ref.value.question } };
  });
  throwIfAnyProblems([invalid, missing]);
  return merged;
}
