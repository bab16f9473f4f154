import { describe, expect, test } from '@jest/globals';
import { tokenizerFromFiles } from './tokenizer-files';
import { bytesToUnicode, byteLevelBpeTokenizerFiles, llamaTokenizerFiles, SHAPES_TOKENIZER_CORPUS } from './tiny-tokenizers';

const json = (files: Map<string, Uint8Array>, name: string) => JSON.parse(new TextDecoder().decode(files.get(name)!));

describe('bytesToUnicode', () => {
  test("maps printable bytes to themselves and the rest to U+0100… in byte order (GPT-2's table)", () => {
    const table = bytesToUnicode();
    expect(table[0x21]).toBe('!');
    expect(table[0x20]).toBe('Ġ'); // U+0120: space is the 33rd non-printable byte (0x00–0x20)
    expect(table[0x0a]).toBe('Ċ'); // U+010A
    expect(table[0x00]).toBe('Ā');
    expect(new Set(table).size).toBe(256);
  });
});

describe('byteLevelBpeTokenizerFiles', () => {
  test('gpt2: 256 byte tokens first, <|endoftext|> last, ByteLevel post-processor, no bos added', () => {
    const files = byteLevelBpeTokenizerFiles();
    const tj = json(files, 'tokenizer.json');
    expect(tj.model.vocab['!']).toBe(0);
    expect(tj.model.vocab['Ġ']).toBe(bytesToUnicode().filter((c) => c < 'Ġ').length);
    const size = Object.keys(tj.model.vocab).length;
    expect(tj.model.vocab['<|endoftext|>']).toBe(size - 1);
    expect(tj.post_processor).toEqual({ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true });
    expect(json(files, 'tokenizer_config.json')).toMatchObject({ bos_token: '<|endoftext|>', pad_token: null, model_max_length: 1024 });
    const tok = tokenizerFromFiles(files)!;
    const id = (t: string) => tok.tokenToId(t)!;
    expect(tok.encode(['a red circle']).inputIds[0]).toEqual([id('a'), id('Ġred'), id('Ġcircle')]);
    expect(tok.specialTokenIds).toEqual({ bos: size - 1, eos: size - 1, unk: size - 1 });
  });

  test('every corpus word is one token; unseen text falls back to byte tokens and decodes back', () => {
    const tok = tokenizerFromFiles(byteLevelBpeTokenizerFiles())!;
    for (const text of SHAPES_TOKENIZER_CORPUS) {
      const words = text.match(/ ?[a-z]+|[?.]/g)!;
      expect(tok.encode([text]).inputIds[0]).toHaveLength(words.length);
    }
    // 红 is E7 BA A2 in UTF-8: three byte tokens.
    const table = bytesToUnicode();
    expect(tok.encode(['红']).inputIds[0]).toEqual([0xe7, 0xba, 0xa2].map((b) => tok.tokenToId(table[b]!)));
    const text = 'Hello 红色 world!  \n\t x 🙂';
    expect(tok.decode(tok.encode([text]).inputIds[0]!)).toBe(text);
  });

  test("opt: <s> <pad> </s> <unk> at 0–3 and '</s>' prepended to every text", () => {
    const files = byteLevelBpeTokenizerFiles({ flavour: 'opt' });
    const tj = json(files, 'tokenizer.json');
    const byId = Object.entries(tj.model.vocab as Record<string, number>).sort((a, b) => a[1] - b[1]);
    expect(byId.slice(0, 5)).toEqual([
      ['<s>', 0],
      ['<pad>', 1],
      ['</s>', 2],
      ['<unk>', 3],
      ['!', 4],
    ]);
    expect(json(files, 'tokenizer_config.json')).toMatchObject({ add_bos_token: true, bos_token: '</s>', pad_token: '<pad>' });
    expect(json(files, 'special_tokens_map.json').unk_token.content).toBe('</s>');
    const tok = tokenizerFromFiles(files)!;
    const id = (t: string) => tok.tokenToId(t)!;
    expect(tok.specialTokenIds).toEqual({ bos: 2, eos: 2, pad: 1, unk: 2 });
    const { inputIds, attentionMask } = tok.encode(['a red circle', 'blue']);
    expect(inputIds).toEqual([
      [2, id('a'), id('Ġred'), id('Ġcircle')],
      [2, id('blue'), 1, 1],
    ]);
    expect(attentionMask).toEqual([
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]);
    expect(tok.decode(inputIds[0]!, { skipSpecialTokens: true })).toBe('a red circle');
  });
});

describe('llamaTokenizerFiles', () => {
  test('<unk> <s> </s> then <0x00>…<0xFF> at 3…258, BPE with byte_fallback, Llama-2 normalizer and decoder', () => {
    const files = llamaTokenizerFiles();
    const tj = json(files, 'tokenizer.json');
    expect(tj.model).toMatchObject({ type: 'BPE', byte_fallback: true, fuse_unk: true, unk_token: '<unk>' });
    expect(tj.model.vocab['<0x00>']).toBe(3);
    expect(tj.model.vocab['<0xFF>']).toBe(258);
    expect(tj.model.vocab['<0x0A>']).toBe(13); // Llama-2's newline piece id
    expect(tj.normalizer.normalizers.map((n: { type: string }) => n.type)).toEqual(['Prepend', 'Replace']);
    expect(tj.pre_tokenizer).toBeNull();
    expect(json(files, 'tokenizer_config.json')).toMatchObject({ add_bos_token: true, add_eos_token: false, padding_side: 'right' });
    const tok = tokenizerFromFiles(files)!;
    const id = (t: string) => tok.tokenToId(t)!;
    expect(tok.specialTokenIds).toEqual({ bos: 1, eos: 2, unk: 0 });
    expect(tok.encode(['a red circle']).inputIds[0]).toEqual([1, id('▁a'), id('▁red'), id('▁circle')]);
  });

  test('Chinese (not in the vocabulary) falls back to UTF-8 byte pieces and decodes back', () => {
    const tok = tokenizerFromFiles(llamaTokenizerFiles())!;
    // ▁ then 红 = E7 BA A2 → <0xE7> <0xBA> <0xA2> = 3 + byte.
    expect(tok.encode(['红']).inputIds[0]).toEqual([1, tok.tokenToId('▁'), 3 + 0xe7, 3 + 0xba, 3 + 0xa2]);
    for (const text of ['红色的圆形', 'a red circle 在左边', 'Hello 🙂!']) {
      expect(tok.decode(tok.encode([text]).inputIds[0]!, { skipSpecialTokens: true })).toBe(text);
    }
  });

  test("spaces 'metaspace' (Metaspace pre-tokenizer, prepend_scheme first) tokenizes plain text as the legacy form", () => {
    const legacy = tokenizerFromFiles(llamaTokenizerFiles())!;
    const meta = tokenizerFromFiles(llamaTokenizerFiles({ spaces: 'metaspace' }))!;
    const tj = json(llamaTokenizerFiles({ spaces: 'metaspace' }), 'tokenizer.json');
    expect(tj.pre_tokenizer).toEqual({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false });
    for (const text of ['a red circle', 'what color is the square?', '红色']) {
      expect(meta.encode([text]).inputIds).toEqual(legacy.encode([text]).inputIds);
    }
  });
});
