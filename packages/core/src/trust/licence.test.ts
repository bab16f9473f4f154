import { describe, expect, it } from '@jest/globals';
import { cardLicence, checkLicences, HF_LICENSE_IDS, normaliseLicence } from './licence';

describe('licences', () => {
  it('normalises ids to the Hub spelling and refuses prose', () => {
    expect(normaliseLicence(' CC-BY-4.0 ')).toEqual({ id: 'cc-by-4.0', known: true });
    expect(normaliseLicence('LicenseRef-acme')).toEqual({ id: 'licenseref-acme', known: false });
    expect(normaliseLicence('my own licence')).toEqual({ error: expect.stringContaining('not a licence id') });
    // The Hub's list (huggingface/hub-docs docs/hub/repositories-licenses.md) has 69 ids, other and unknown included.
    expect(HF_LICENSE_IDS).toHaveLength(69);
    expect(new Set(HF_LICENSE_IDS).size).toBe(HF_LICENSE_IDS.length);
  });

  it('warns for each marked pair present in the mixture, in either order and case', () => {
    const check = checkLicences(
      [
        { name: 'a.jsonl', license: 'cc-by-nc-4.0' },
        { name: 'b.jsonl', license: 'Apache-2.0' },
        { name: 'c.jsonl', license: 'cc-by-nc-4.0' },
        { name: 'd.jsonl' },
      ],
      [
        ['APACHE-2.0', 'cc-by-nc-4.0'],
        ['cc-by-nc-4.0', 'apache-2.0'], // the same pair again
        ['mit', 'cc-by-nc-4.0'], // mit absent
        ['apache-2.0', 'apache-2.0'],
      ],
    );
    expect(check.licenses).toEqual(['apache-2.0', 'cc-by-nc-4.0']);
    expect(check.unlicensed).toEqual(['d.jsonl']);
    expect(check.conflicts).toEqual([{ pair: ['apache-2.0', 'cc-by-nc-4.0'], sources: [['b.jsonl'], ['a.jsonl', 'c.jsonl']] }]);
    expect(check.warnings).toHaveLength(2);
    expect(check.warnings[0]).toContain('apache-2.0 (b.jsonl) and cc-by-nc-4.0 (a.jsonl, c.jsonl)');
    expect(check.warnings[1]).toContain('no licence known for d.jsonl');
  });

  it('no marked pairs: no warnings even with mixed licences', () => {
    expect(
      checkLicences([
        { name: 'a', license: 'mit' },
        { name: 'b', license: 'gpl-3.0' },
      ]).warnings,
    ).toEqual([]);
  });

  it('picks the card licence: recipe first, then the data when all agree, else a note', () => {
    const agree = [
      { name: 'a', license: 'MIT' },
      { name: 'b', license: 'mit' },
    ];
    expect(cardLicence('Apache-2.0', agree)).toEqual({ license: 'apache-2.0' });
    expect(cardLicence(undefined, agree)).toEqual({ license: 'mit' });
    expect(cardLicence(undefined, [...agree, { name: 'c', license: 'cc-by-4.0' }]).note).toContain('several licences (cc-by-4.0, mit)');
    expect(cardLicence(undefined, [...agree, { name: 'c' }]).note).toContain('No licence is recorded for c');
    expect(cardLicence(undefined, [])).toEqual({ note: 'No licence is recorded; set card.license in the recipe.' });
  });
});
