import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '@mmft/core';
import { DEFAULT_PROMPTS, TASK_PLACEHOLDERS, renderTemplate, resolvePrompt, templatePlaceholders, validateTemplate } from './index';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('renderTemplate', () => {
  test('fills placeholders in English and Chinese', () => {
    expect(renderTemplate(DEFAULT_PROMPTS.vqa.en, { question: 'What colour is the circle?' })).toBe(
      'Question: What colour is the circle? Answer:',
    );
    expect(renderTemplate(DEFAULT_PROMPTS.vqa.zh, { question: '圆形是什么颜色？' })).toBe('问题：圆形是什么颜色？ 答案：');
  });

  test('escaped braces stay literal and numbers render', () => {
    expect(renderTemplate('{{json}} {n}', { n: 3 })).toBe('{json} 3');
    expect(templatePlaceholders('{{a}} {b} {c} {b}')).toEqual(['b', 'c']);
  });

  test('a missing value names the placeholder and the values given', () => {
    const error = errorOf(() => renderTemplate('Q: {question}', { q: 'x' }));
    expect(isMmftError(error)).toBe(true);
    expect(error.message).toContain('{question}');
    expect(error.message).toContain('{q}');
  });

  test('a stray brace is an error with its position', () => {
    expect(errorOf(() => templatePlaceholders('Question: {question Answer:')).message).toContain('unmatched "{" at character 10');
  });
});

describe('validateTemplate / resolvePrompt', () => {
  test('an unknown placeholder is named and the known ones listed', () => {
    const error = errorOf(() => validateTemplate('Question: {qestion}', ['question'], 'prompts.vqa'));
    expect(error.message).toBe('prompts.vqa: "Question: {qestion}" uses the unknown placeholder {qestion}; known placeholders: {question}');
  });

  test('defaults per language, overrides validated, required placeholders enforced', () => {
    expect(resolvePrompt('caption', { lang: 'zh' })).toBe('描述这张图片：');
    expect(resolvePrompt('caption')).toBe('a photo of');
    // no lang set: the example's own language picks the default; a set lang wins; unknown languages fall back to en
    expect(resolvePrompt('caption', {}, undefined, 'zh')).toBe('描述这张图片：');
    expect(resolvePrompt('vqa', { caption: 'x' }, undefined, 'zh')).toBe('问题：{question} 答案：');
    expect(resolvePrompt('caption', { lang: 'en' }, undefined, 'zh')).toBe('a photo of');
    expect(resolvePrompt('caption', {}, undefined, 'fr')).toBe('a photo of');
    expect(resolvePrompt('retrieval', { retrieval: 'a photo of {text}' })).toBe('a photo of {text}');
    expect(errorOf(() => resolvePrompt('vqa', { vqa: 'Answer:' })).message).toContain('does not use {question}');
    expect(errorOf(() => resolvePrompt('caption', { caption: 'a photo of {x}' })).message).toContain('known placeholders: none');
  });

  test('plain text has no prompt in either language, and a prompt for it is refused', () => {
    expect(resolvePrompt('text')).toBe('');
    expect(resolvePrompt('text', { lang: 'zh' })).toBe('');
    expect(TASK_PLACEHOLDERS.text).toEqual([]);
    expect(errorOf(() => resolvePrompt('text', { text: 'Text: {text}' } as never)).message).toContain('plain text takes no prompt');
  });
});
