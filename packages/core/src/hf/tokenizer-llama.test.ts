// LlamaTokenizerFast semantics on the tiny Llama fixture (core/testing llamaTokenizerFiles): bos / eos from
// tokenizer_config.json, padding sides, byte fallback for characters outside the vocabulary.
import { describe, expect, test } from '@jest/globals';
import { llamaTokenizerFiles, type LlamaTokenizerOptions } from './tiny-tokenizers';
import { tokenizerFromFiles } from './tokenizer-files';

/** The fixture's files with tokenizer_config.json edited by `edit`. */
function withConfig(options: LlamaTokenizerOptions, edit: (config: Record<string, unknown>) => void) {
  const files = llamaTokenizerFiles(options);
  const config = JSON.parse(new TextDecoder().decode(files.get('tokenizer_config.json')!));
  edit(config);
  files.set('tokenizer_config.json', new TextEncoder().encode(JSON.stringify(config)));
  return tokenizerFromFiles(files)!;
}

const base = tokenizerFromFiles(llamaTokenizerFiles())!;
const id = (t: string) => base.tokenToId(t)!;
const [UNK, BOS, EOS] = [0, 1, 2];
/** The byte piece <0xNN> has id 3 + NN in Llama's layout. */
const byte = (b: number) => 3 + b;

describe('LlamaTokenizerFast special tokens', () => {
  test('add_bos_token true / add_eos_token false (Llama-2): <s> before every text, nothing after', () => {
    expect(base.encode(['a red circle']).inputIds).toEqual([[BOS, id('▁a'), id('▁red'), id('▁circle')]]);
    expect(base.addBosToken).toBe(true);
    expect(base.addEosToken).toBe(false);
    expect(base.numSpecialTokens).toBe(1);
  });

  test('add_eos_token true appends </s>; truncation keeps both special tokens', () => {
    const tok = tokenizerFromFiles(llamaTokenizerFiles({ addEosToken: true }))!;
    expect(tok.encode(['blue square']).inputIds[0]).toEqual([BOS, id('▁blue'), id('▁square'), EOS]);
    expect(tok.encode(['a red circle'], { maxLength: 3 }).inputIds[0]).toEqual([BOS, id('▁a'), EOS]);
  });

  test('tokenizer_config.json flags win over the post-processor saved in tokenizer.json', () => {
    // tokenizer.json still says "<s>:0 $A:0"; update_post_processor rebuilds it from the config.
    const noBos = withConfig({}, (c) => (c.add_bos_token = false));
    expect(noBos.encode(['a red circle']).inputIds[0]).toEqual([id('▁a'), id('▁red'), id('▁circle')]);
    const eos = withConfig({}, (c) => (c.add_eos_token = true));
    expect(eos.encode(['yes']).inputIds[0]).toEqual([BOS, id('▁yes'), EOS]);
    // A Llama tokenizer_class without the flags takes LlamaTokenizerFast's defaults (bos yes, eos no).
    const defaults = withConfig({ addBosToken: false }, (c) => {
      delete c.add_bos_token;
      delete c.add_eos_token;
    });
    expect(defaults.encode(['yes']).inputIds[0]).toEqual([BOS, id('▁yes')]);
  });

  test('add_eos_token without an eos_token is an error naming tokenizer_config.json', () => {
    expect(() =>
      withConfig({}, (c) => {
        c.add_eos_token = true;
        c.eos_token = null;
      }),
    ).toThrow(/tokenizer_config\.json sets add_eos_token but names no eos_token/);
  });

  test('addSpecialTokens false leaves the text alone', () => {
    expect(base.encode(['a red circle'], { addSpecialTokens: false }).inputIds[0]).toEqual([id('▁a'), id('▁red'), id('▁circle')]);
  });
});

describe('padding sides', () => {
  const texts = ['a red circle', 'yes'];
  test("padding_side 'right' (Llama-2's file) pads after the text with pad_token", () => {
    const tok = tokenizerFromFiles(llamaTokenizerFiles({ padToken: '<unk>' }))!;
    expect(tok.encode(texts)).toEqual({
      inputIds: [
        [BOS, id('▁a'), id('▁red'), id('▁circle')],
        [BOS, id('▁yes'), UNK, UNK],
      ],
      attentionMask: [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ],
    });
  });

  test("padding_side 'left' pads before the text; a per-call paddingSide overrides the file", () => {
    const tok = tokenizerFromFiles(llamaTokenizerFiles({ padToken: '<unk>', paddingSide: 'left' }))!;
    expect(tok.paddingSide).toBe('left');
    expect(tok.encode(texts).inputIds[1]).toEqual([UNK, UNK, BOS, id('▁yes')]);
    expect(tok.encode(texts).attentionMask[1]).toEqual([0, 0, 1, 1]);
    expect(tok.encode(texts, { paddingSide: 'right' }).inputIds[1]).toEqual([BOS, id('▁yes'), UNK, UNK]);
  });

  test('a batch that needs padding without a pad_token is refused (Llama-2 has none)', () => {
    expect(() => base.encode(texts)).toThrow(/padding needs a pad_token/);
    expect(base.encode(['yes', 'no']).inputIds).toEqual([
      [BOS, id('▁yes')],
      [BOS, id('▁no')],
    ]);
  });
});

describe('byte fallback', () => {
  test('characters outside the vocabulary become their UTF-8 byte pieces', () => {
    // 圆 = E5 9C 86, 形 = E5 BD A2; the normalizer puts ▁ in front.
    expect(base.encode(['圆形'], { addSpecialTokens: false }).inputIds[0]).toEqual([
      id('▁'),
      ...[0xe5, 0x9c, 0x86, 0xe5, 0xbd, 0xa2].map(byte),
    ]);
    // "H" is not in the tiny vocabulary either: byte 0x48.
    expect(base.encode(['H'], { addSpecialTokens: false }).inputIds[0]).toEqual([id('▁'), byte(0x48)]);
  });

  test('decode joins byte pieces into characters: Chinese, emoji and mixed text round-trip', () => {
    for (const text of ['红色的圆形', 'a red circle 在左边', 'Hello 🙂!', '三角形\n星形']) {
      expect(base.decode(base.encode([text]).inputIds[0]!, { skipSpecialTokens: true })).toBe(text);
    }
    expect(base.batchDecode([[BOS, id('▁a'), id('▁red')], [id('▁yes')]], { skipSpecialTokens: true })).toEqual(['a red', 'yes']);
    expect(base.decode([BOS, id('▁a')])).toBe('<s> a');
  });

  test("a cut character decodes to one U+FFFD per byte piece, as Hugging Face's ByteFallback decoder", () => {
    const [, e5, x9c] = base.encode(['圆'], { addSpecialTokens: false }).inputIds[0]!;
    expect(base.decode([e5!, x9c!])).toBe('\ufffd\ufffd');
    // The whole run is judged: a complete character followed by a cut one is all replacement characters.
    expect(base.decode([...[0xe5, 0x9c, 0x86, 0xe5].map(byte), id('▁a')])).toBe('\ufffd'.repeat(4) + ' a');
    expect(base.decode([...[0xe5, 0x9c, 0x86].map(byte), id('▁a')])).toBe('圆 a');
  });
});
