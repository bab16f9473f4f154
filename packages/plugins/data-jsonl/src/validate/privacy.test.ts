import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import sharp from 'sharp';
import { writeDataManifest } from '@mmft/core';
import { dataDir, jsonl, writeData } from '../testing/fixtures';
import { readExifPrivacy } from './exif';
import { formatReport } from './report';
import { findRecordPersonalData, redactRecord } from './privacy';
import { validateFiles } from './validate';

const RED = 'images/red.png';
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const pii = (report: Awaited<ReturnType<typeof validateFiles>>) =>
  report.issues.filter((i) => i.code === 'personal-data' || i.code === 'image-metadata').map((i) => [i.line, i.code, i.field]);

/** A JPEG with a GPS position and a body serial number, written through sharp's EXIF writer. */
async function gpsJpeg(file: string): Promise<void> {
  await sharp({ create: { width: 16, height: 12, channels: 3, background: '#3a7' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'Acme', Model: 'X1' },
      IFD2: { BodySerialNumber: 'SN-0042-7781' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 1500/100', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 3000/100' },
    })
    .toFile(file);
}

// Valid numbers (checksums hold) are planted once each; their near misses must not be flagged.
const ENGLISH = [
  { image: RED, caption: 'A red square. Contact ann.lee@example.org or +1 (415) 555-2671.' },
  { image: RED, caption: ['Card 4111 1111 1111 1111 on file', 'not a card: 4111 1111 1111 1112'] },
  { image: RED, caption: 'Shared via https://photos.example.org/s/9?access_token=abc123 and SSN 123-45-6789' },
  { image: RED, caption: 'Plain caption with 20 squares and order 1234567890123, SSN-like 666-12-3456.' },
];
const CHINESE = [
  {
    conversations: [
      { from: 'human', value: '<image>\n图里是什么？我的手机号是１３８１２３４５６７８' },
      { from: 'gpt', value: '一个红色方块。' },
    ],
    image: RED,
  },
  {
    conversations: [
      { from: 'human', value: '<image>\n身份证号11010519491231002X，银行卡6222021234567890128' },
      { from: 'gpt', value: '请不要在对话里发送个人信息，邮箱：zhang.san@example.cn' },
    ],
    image: RED,
  },
  {
    conversations: [
      { from: 'human', value: '<image>\n错误的号码：110105194912310021，卡号6222021234567890123' },
      { from: 'gpt', value: '好的。' },
    ],
    image: RED,
  },
];

describe('personal data in mmft data validate', () => {
  test('English captions: each valid finding is a warning at file:line:field, with a masked excerpt; lines are kept', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'en.jsonl', jsonl(...ENGLISH));
    const report = await validateFiles([file]);
    expect(pii(report)).toEqual([
      [1, 'personal-data', 'caption'],
      [2, 'personal-data', 'caption.0'],
      [3, 'personal-data', 'caption'],
    ]);
    expect(report.errors).toBe(0);
    expect(report.files[0]).toMatchObject({ records: 4, rejected: 0 });
    expect(report.privacy).toEqual({ spans: { email: 1, phone: 1, bank_card: 1, us_ssn: 1, url_token: 1 }, lines: 3, images: 0 });
    const messages = report.issues.map((i) => i.message).join('\n');
    expect(messages).toContain('4111 **** **** 1111');
    expect(messages).toContain('a***@example.org');
    expect(messages).toContain('access_token=***');
    for (const secret of ['4111 1111 1111 1111', 'ann.lee@', 'abc123', '123-45-6789']) expect(messages).not.toContain(secret);
    expect(formatReport(report)).toContain(
      'personal data: 3 line(s) with email 1, phone 1, bank_card 1, us_ssn 1, url_token 1; 0 image(s) with GPS or serial-number metadata (write a redacted copy with --fix OUT --redact-pii)',
    );
  });

  test('Chinese conversations with full-width digits: IDs and cards only when their check digits hold', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'zh.jsonl', jsonl(...CHINESE));
    const report = await validateFiles([file]);
    expect(pii(report)).toEqual([
      [1, 'personal-data', 'conversations.0.value'],
      [2, 'personal-data', 'conversations.0.value'],
      [2, 'personal-data', 'conversations.1.value'],
    ]);
    expect(report.privacy!.spans).toEqual({ phone: 1, cn_resident_id: 1, bank_card: 1, email: 1 });
    // The mask keeps the characters as written (full-width here).
    expect(report.issues[0]!.message).toContain('１３８****５６７８');
  });

  test('an image with GPS EXIF is flagged once, at the first line using it; the check can be turned off', async () => {
    const dir = dataDir();
    await gpsJpeg(path.join(dir, 'images', 'gps.jpg'));
    const file = writeData(
      dir,
      'img.jsonl',
      jsonl(
        { image: 'images/gps.jpg', caption: 'a green field' },
        { image: 'images/gps.jpg', caption: 'grass' },
        { image: RED, caption: 'red' },
      ),
    );
    const report = await validateFiles([file]);
    expect(pii(report)).toEqual([[1, 'image-metadata', 'image']]);
    expect(report.issues[0]!.message).toMatch(/gps\.jpg carries a GPS position, BodySerialNumber in its metadata/);
    expect(report.issues[0]!.message).not.toContain('SN-0042');
    expect(report.privacy).toMatchObject({ images: 1, lines: 0 });
    const off = await validateFiles([file], { personalData: false });
    expect([pii(off), off.privacy]).toEqual([[], undefined]);
  });

  test('--fix --redact-pii: placeholders in texts, metadata-free image copies, a change log and a manifest; inputs byte-identical', async () => {
    const dir = dataDir();
    await gpsJpeg(path.join(dir, 'images', 'gps.jpg'));
    const lines = [
      { image: 'images/gps.jpg', caption: 'call 13812345678' },
      ENGLISH[3],
      { image: 'images/gps.jpg', caption: 'no personal data' },
    ];
    const file = writeData(dir, 'mixed.jsonl', jsonl(...lines));
    await writeDataManifest(file, { license: 'cc-by-4.0' });
    const before = [file, path.join(dir, 'images', 'gps.jpg'), path.join(dir, RED)].map(sha);
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out, redactPii: true });

    expect([file, path.join(dir, 'images', 'gps.jpg'), path.join(dir, RED)].map(sha)).toEqual(before);
    const kept = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    const copy = 'clean.images/' + fs.readdirSync(path.join(dir, 'clean.images'))[0];
    expect(copy).toMatch(/^clean\.images\/[0-9a-f]{12}-gps\.jpg$/);
    expect(kept.map((l) => JSON.parse(l))).toEqual([
      { image: copy, caption: 'call [PHONE]' },
      ENGLISH[3],
      { image: copy, caption: 'no personal data' },
    ]);
    // An untouched line is written exactly as read.
    expect(kept[1]).toBe(JSON.stringify(ENGLISH[3]));
    const { exif } = await sharp(path.join(dir, copy)).metadata();
    expect(exif === undefined ? { gps: false, identifying: [] } : readExifPrivacy(exif)).toEqual({ gps: false, identifying: [] });
    expect((await sharp(path.join(dir, copy)).metadata()).width).toBe(16);

    const changes = fs
      .readFileSync(`${out}.changes.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(changes).toEqual([
      { line: 1, field: 'caption', action: 'redacted', found: [{ kind: 'phone', masked: '138****5678' }] },
      {
        line: 1,
        field: 'image',
        action: 'metadata-stripped',
        from: 'images/gps.jpg',
        to: copy,
        removed: ['a GPS position', 'BodySerialNumber'],
      },
      {
        line: 3,
        field: 'image',
        action: 'metadata-stripped',
        from: 'images/gps.jpg',
        to: copy,
        removed: ['a GPS position', 'BodySerialNumber'],
      },
    ]);
    expect(report.fix).toMatchObject({ kept: 3, dropped: 0, redacted: { lines: 1, imageCopies: 1 } });
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({
      file: 'clean.jsonl',
      records: 3,
      license: 'cc-by-4.0',
      images: { count: 2 },
      source: { generator: 'mmft data validate --fix', input: 'mixed.jsonl', input_sha256: before[0], redacted_personal_data: true },
    });
    // The copy validates clean of personal data.
    const again = await validateFiles([out]);
    expect([pii(again), again.errors]).toEqual([[], 0]);
  });

  test('an image in a data URL is flagged; --redact-pii leaves it and notes that it was not rewritten', async () => {
    const dir = dataDir();
    const jpeg = path.join(dir, 'gps.jpg');
    await gpsJpeg(jpeg);
    const url = `data:image/jpeg;base64,${fs.readFileSync(jpeg).toString('base64')}`;
    const record = {
      messages: [
        { role: 'user', content: '<image>Where?' },
        { role: 'assistant', content: 'A field.' },
      ],
      images: [url],
    };
    const file = writeData(dir, 'url.jsonl', jsonl(record));
    const out = path.join(dir, 'clean.jsonl');
    const report = await validateFiles([file], { fix: out, redactPii: true });
    expect(pii(report)).toEqual([[1, 'image-metadata', 'images.0']]);
    expect(report.issues[0]!.message).toContain('the data URL image carries a GPS position');
    expect(fs.readFileSync(out, 'utf8')).toBe(`${JSON.stringify(record)}\n`);
    expect(JSON.parse(fs.readFileSync(`${out}.changes.jsonl`, 'utf8'))).toEqual({
      line: 1,
      field: 'images.0',
      action: 'metadata-kept',
      reason: 'a data URL image is not rewritten',
      found: ['a GPS position', 'BodySerialNumber'],
    });
  });

  test('--redact-pii needs --fix', async () => {
    await expect(validateFiles(['x.jsonl'], { redactPii: true })).rejects.toThrow('--redact-pii rewrites the --fix copy');
  });

  test('a data file changed since its manifest is an error, a warning when accepted, skipped when ignored', async () => {
    const dir = dataDir();
    const file = writeData(dir, 'd.jsonl', jsonl({ image: RED, caption: 'one' }));
    await writeDataManifest(file);
    expect((await validateFiles([file])).errors).toBe(0);
    fs.appendFileSync(file, jsonl({ image: RED, caption: 'two' }));
    const refused = await validateFiles([file]);
    expect(refused.issues.map((i) => [i.code, i.severity, i.line])).toEqual([['data-changed', 'error', undefined]]);
    expect(refused.issues[0]!.message).toMatch(
      /d\.jsonl no longer matches d\.jsonl\.manifest\.json: .*records: 1 → 2.*--accept-data-change/,
    );
    const accepted = await validateFiles([file], { dataManifest: 'accept' });
    expect([accepted.errors, accepted.issues.map((i) => i.code)]).toEqual([0, ['data-changed-accepted']]);
    expect((await validateFiles([file], { dataManifest: 'ignore' })).issues).toEqual([]);
  });
});

describe('record walking', () => {
  test('image fields and data URLs are not scanned; redaction changes only the flagged fields', () => {
    const record = {
      images: ['images/ann@example.org.png'],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'mail ann@example.org' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,4111111111111111' } },
          ],
        },
      ],
      meta: { n: 4111111111111111, note: 'ok' },
    };
    const found = findRecordPersonalData(record);
    expect(found.map((f) => f.field)).toEqual(['messages.0.content.0.text']);
    const redacted = redactRecord(record, found);
    expect(redacted).toEqual({
      ...record,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'mail [EMAIL]' }, record.messages[0]!.content[1]] }],
    });
  });
});
