import { describe, expect, test } from '@jest/globals';
import {
  cnResidentIdValid,
  findPersonalData,
  ibanValid,
  luhnValid,
  maskPersonalData,
  redactPersonalData,
  urlHasToken,
  usSsnValid,
  type PiiKind,
} from './pii';

// Check digits below were worked out by hand from the standards and re-checked with a Python
// one-liner: Luhn (ISO/IEC 7812-1), GB 11643-1999 (ISO 7064 MOD 11-2), ISO 13616 mod-97.
const kinds = (text: string) => findPersonalData(text).map((s) => [s.kind, s.text] as [PiiKind, string]);

describe('checksums', () => {
  test('Luhn: 4111111111111111 sums to 30 (doubling every second digit from the right), ...12 does not', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('6222021234567890128')).toBe(true);
    expect(luhnValid('6222021234567890123')).toBe(false);
  });

  test('Chinese resident ID: MOD 11-2 check character and a real birth date', () => {
    // 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8+0·4+2·2 = 167; 167 mod 11 = 2 → "X".
    expect(cnResidentIdValid('11010519491231002X')).toBe(true);
    expect(cnResidentIdValid('11010519491231002x')).toBe(true);
    expect(cnResidentIdValid('110105194912310021')).toBe(false);
    expect(cnResidentIdValid('440304199001011233')).toBe(true);
    // Right check digit, impossible date (30 February) or a birth in the future.
    expect(cnResidentIdValid('320106198502301239')).toBe(false);
    expect(cnResidentIdValid('110105209912310029')).toBe(false);
  });

  test('IBAN mod-97 and SSN areas', () => {
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('GB82 WEST 1234 5698 7654 33')).toBe(false);
    expect(usSsnValid('123-45-6789')).toBe(true);
    for (const bad of ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000']) expect(usSsnValid(bad)).toBe(false);
  });

  test('URLs: credentials or a secret key in the query or fragment', () => {
    expect(urlHasToken('https://api.example.org/v1?access_token=abc123')).toBe(true);
    expect(urlHasToken('https://example.org/a?page=2#token=xyz')).toBe(true);
    expect(urlHasToken('ftp://user:hunter2@files.example.org/x')).toBe(true);
    expect(urlHasToken('https://example.org/search?q=token&key=')).toBe(false);
    expect(urlHasToken('https://example.org/a?keyword=cats')).toBe(false);
  });
});

describe('findPersonalData', () => {
  test('English text: only numbers whose checksum holds are flagged', () => {
    const text = [
      'Write to Ann.Lee+ml@mail.example.co.uk or call +1 (415) 555-2671, (212) 555-0147, 07700 900123 or +44 20 7946 0958.',
      'Card 4111 1111 1111 1111 paid; 4111 1111 1111 1112 bounced. SSN 123-45-6789, not 666-12-3456.',
      'IBAN GB82 WEST 1234 5698 7654 32 OK but GB82 WEST 1234 5698 7654 33 is a typo.',
      'See https://cdn.example.org/img.png?sig=deadbeef. and https://example.org/docs?page=2.',
      'Order 20231105 shipped 3 items; id 1234567890123 is no card.',
    ].join('\n');
    expect(kinds(text)).toEqual([
      ['email', 'Ann.Lee+ml@mail.example.co.uk'],
      ['phone', '+1 (415) 555-2671'],
      ['phone', '(212) 555-0147'],
      ['phone', '07700 900123'],
      ['phone', '+44 20 7946 0958'],
      ['bank_card', '4111 1111 1111 1111'],
      ['us_ssn', '123-45-6789'],
      ['iban', 'GB82 WEST 1234 5698 7654 32'],
      ['url_token', 'https://cdn.example.org/img.png?sig=deadbeef'],
    ]);
  });

  test('Chinese text, with full-width digits: offsets point into the original text', () => {
    const text =
      '张三的手机号是138 1234 5678，座机010-12345678，身份证号：１１０１０５１９４９１２３１００２Ｘ，邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ。';
    const spans = findPersonalData(text);
    expect(spans.map((s) => s.kind)).toEqual(['phone', 'phone', 'cn_resident_id', 'email']);
    for (const s of spans) expect(text.slice(s.start, s.end)).toBe(s.text);
    expect(spans[0]!.text).toBe('138 1234 5678');
    expect(spans[2]!.text).toBe('１１０１０５１９４９１２３１００２Ｘ');
    expect(spans[3]!.text).toBe('ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ');
    expect(kinds('手机+86 13912345678，银行卡6222021234567890128')).toEqual([
      ['phone', '+86 13912345678'],
      ['bank_card', '6222021234567890128'],
    ]);
  });

  test('Chinese text: wrong check characters and dates are not flagged', () => {
    expect(kinds('身份证110105194912310021，卡号6222021234567890123，生日320106198502301239')).toEqual([]);
  });

  test('characters outside the BMP before a hit keep offsets right', () => {
    const text = '😀😀 mail x@y.io';
    const [span] = findPersonalData(text);
    expect(span).toEqual({ kind: 'email', start: 10, end: 16, text: 'x@y.io' });
  });

  test('a card number inside a URL with a token is one finding, the URL', () => {
    expect(kinds('https://pay.example.org/c?card=4111111111111111&token=t0k')).toEqual([
      ['url_token', 'https://pay.example.org/c?card=4111111111111111&token=t0k'],
    ]);
  });
});

describe('redaction and masking', () => {
  test('spans become [KIND] placeholders, the rest is kept byte for byte', () => {
    const text = '邮箱：a.b@example.com；电话 13812345678。Card 5500-0000-0000-0004.';
    expect(redactPersonalData(text).text).toBe('邮箱：[EMAIL]；电话 [PHONE]。Card [BANK_CARD].');
    expect(redactPersonalData('nothing here 123').text).toBe('nothing here 123');
  });

  test('masks never show the whole value', () => {
    const mask = (text: string) => findPersonalData(text).map(maskPersonalData);
    expect(mask('4111 1111 1111 1111')).toEqual(['4111 **** **** 1111']);
    expect(mask('ann@example.org')).toEqual(['a***@example.org']);
    expect(mask('123-45-6789')).toEqual(['***-**-6789']);
    expect(mask('11010519491231002X')).toEqual(['110***********002X']);
    expect(mask('138 1234 5678')).toEqual(['138 **** 5678']);
    expect(mask('GB82 WEST 1234 5698 7654 32')).toEqual(['GB82 **** **** **** **54 32']);
    expect(mask('https://u:pw@h.example.org/x?a=1&api_key=SECRET#sig=abc')).toEqual([
      'https://***:***@h.example.org/x?a=1&api_key=***#sig=***',
    ]);
  });
});
