import { describe, expect, test } from '@jest/globals';
import { buildWordLevelTokenizerFiles, splitWords } from './word-level';
import { HfTokenizer } from './tokenizer';

const WORDS = ['a red blue circle square', '红色 蓝色 圆形'];

function tokenizer(extraConfig: Record<string, unknown> = {}, maxLength = 8) {
  const files = buildWordLevelTokenizerFiles(WORDS, { modelMaxLength: maxLength });
  const tok = new HfTokenizer(files.tokenizerJson, { ...files.tokenizerConfig, ...extraConfig }, { modelMaxLength: maxLength });
  const id = (t: string) => tok.tokenToId(t)!;
  return { tok, ids: files.ids, id, files };
}

describe('buildWordLevelTokenizerJson', () => {
  test('writes the HF tokenizers 1.0 layout with CLIP-style special tokens (eos has the largest id)', () => {
    const { files, ids } = tokenizer();
    const json = files.tokenizerJson as Record<string, any>;
    expect(json.version).toBe('1.0');
    expect(json.model.type).toBe('WordLevel');
    expect(json.model.unk_token).toBe('<|unk|>');
    expect(json.post_processor.type).toBe('TemplateProcessing');
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toEqual(['<|unk|>', '<|startoftext|>', '<|endoftext|>']);
    expect(ids).toEqual({ unk: 0, bos: ids.vocabSize - 2, eos: ids.vocabSize - 1, pad: ids.vocabSize - 1, vocabSize: ids.vocabSize });
    expect(files.tokenizerConfig).toMatchObject({
      tokenizer_class: 'PreTrainedTokenizerFast',
      pad_token: '<|endoftext|>',
      model_max_length: 8,
    });
  });

  test('Chinese is split per character, English per word, lowercased', () => {
    expect(splitWords('A Red圆形, blue')).toEqual(['a', 'red', '圆', '形', ',', 'blue']);
  });
});

describe('HfTokenizer (HF padding / truncation semantics)', () => {
  test('adds bos/eos through the post-processor and maps unknown words to unk', () => {
    const { tok, id, ids } = tokenizer();
    const { inputIds, attentionMask } = tok.encode(['Red CIRCLE', '红色 圆 green']);
    expect(inputIds[0]).toEqual([ids.bos, id('red'), id('circle'), ids.eos, ids.pad, ids.pad]);
    expect(inputIds[1]).toEqual([ids.bos, id('红'), id('色'), id('圆'), ids.unk, ids.eos]);
    expect(attentionMask).toEqual([
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1],
    ]);
    expect(tok.numSpecialTokens).toBe(2);
  });

  test("padding 'max_length' pads to maxLength; 'longest' to the longest row", () => {
    const { tok } = tokenizer();
    expect(tok.encode(['red'], { padding: 'max_length' }).inputIds[0]).toHaveLength(8);
    expect(tok.encode(['red'], { padding: 'max_length', maxLength: 5 }).attentionMask[0]).toEqual([1, 1, 1, 0, 0]);
    expect(tok.encode(['red', 'red blue'], { padding: 'longest' }).inputIds.map((r) => r.length)).toEqual([4, 4]);
  });

  test('truncation keeps the eos: content is cut to maxLength minus the special tokens', () => {
    const { tok, id, ids } = tokenizer();
    const row = tok.encode(['a red blue circle square red blue'], { maxLength: 5 }).inputIds[0];
    expect(row).toEqual([ids.bos, id('a'), id('red'), id('blue'), ids.eos]);
    expect(tok.encode(['a red blue circle square red blue'], { maxLength: 5, truncation: false }).inputIds[0]).toHaveLength(9);
    expect(() => tok.encode(['red'], { maxLength: 1 })).toThrow(/special tokens/);
  });

  test('padding_side left from tokenizer_config.json', () => {
    const { tok, ids, id } = tokenizer({ padding_side: 'left' });
    const out = tok.encode(['red', 'red blue']);
    expect(out.inputIds[0]).toEqual([ids.pad, ids.bos, id('red'), ids.eos]);
    expect(out.attentionMask[0]).toEqual([0, 1, 1, 1]);
  });

  test('decode, with and without special tokens; vocabSize counts added tokens', () => {
    const { tok, ids } = tokenizer();
    const row = tok.encode(['red circle']).inputIds[0]!;
    expect(tok.decode(row, { skipSpecialTokens: true })).toBe('red circle');
    expect(tok.decode(row)).toBe('<|startoftext|> red circle <|endoftext|>');
    expect(tok.vocabSize).toBe(ids.vocabSize);
  });

  test('padding without a pad token is an error that says how to fix it', () => {
    const { tok } = tokenizer({ pad_token: null });
    expect(tok.encode(['red']).inputIds).toHaveLength(1);
    expect(() => tok.encode(['red', 'red blue'])).toThrow(/pad_token/);
  });
});

describe('HfTokenizer special tokens, padding side and chat template (tokenizer_config.json first)', () => {
  test('bos/eos/pad/unk ids by role, right padding by default, no chat template', () => {
    const { tok, ids } = tokenizer();
    expect(tok.specialTokenIds).toEqual({ bos: ids.bos, eos: ids.eos, pad: ids.pad, unk: ids.unk });
    expect(tok.specialTokens).toEqual({ bos: '<|startoftext|>', eos: '<|endoftext|>', pad: '<|endoftext|>', unk: '<|unk|>' });
    expect(tok.paddingSide).toBe('right');
    expect(tok.chatTemplate).toBeUndefined();
  });

  test('special_tokens_map.json fills the roles tokenizer_config.json leaves unset; an explicit null there stays none', () => {
    const files = buildWordLevelTokenizerFiles(WORDS, { modelMaxLength: 8 });
    const { pad_token: _pad, bos_token: _bos, ...config } = files.tokenizerConfig;
    const tok = new HfTokenizer(
      files.tokenizerJson,
      { ...config, bos_token: null },
      { specialTokensMap: { pad_token: { content: '<|unk|>' }, bos_token: '<|endoftext|>' } },
    );
    expect(tok.specialTokenIds).toEqual({ eos: files.ids.eos, pad: files.ids.unk, unk: files.ids.unk });
    expect(tok.encode(['red', 'red blue']).inputIds[0]).toEqual([files.ids.bos, tok.tokenToId('red'), files.ids.eos, files.ids.unk]);
  });

  test('padding_side left and chat_template (a string, or the "default" of a named list) from tokenizer_config.json', () => {
    expect(tokenizer({ padding_side: 'left', chat_template: '{{ messages }}' }).tok).toMatchObject({
      paddingSide: 'left',
      chatTemplate: '{{ messages }}',
    });
    const named = [
      { name: 'tool_use', template: 'T' },
      { name: 'default', template: 'D' },
    ];
    expect(tokenizer({ chat_template: named }).tok.chatTemplate).toBe('D');
    const files = buildWordLevelTokenizerFiles(WORDS);
    expect(new HfTokenizer(files.tokenizerJson, files.tokenizerConfig, { chatTemplate: 'J' }).chatTemplate).toBe('J');
  });
});
