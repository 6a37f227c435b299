// Exam-line sites, occupations with their trade words, sizes and grades as qualities, organ-named
// services, and negation scopes that end where the writer starts a new clause.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const find = (text: string, word: string): Entity => {
  const e = entities(text).find((x) => x.Text === word);
  if (e === undefined) throw new Error(`no entity "${word}" in "${text}"`);
  return e;
};
const attrs = (e: Entity): [string, string][] => (e.Attributes ?? []).map((a) => [a.Type ?? '', a.Text ?? '']);
const traits = (e: Entity): string[] => (e.Traits ?? []).map((t) => t.Name ?? '');

describe('exam lines', () => {
  it('makes the site that opens an exam clause the site of its findings', () => {
    // (Not "nontender": a finding stated absent leaves the subject an entity, GUIDELINES.md rule 1.)
    const text = 'Exam: Abdomen soft, distended. Oropharynx without thrush.';
    expect(attrs(find(text, 'distended'))).toContainEqual(['SYSTEM_ORGAN_SITE', 'Abdomen']);
    expect(attrs(find(text, 'thrush'))).toContainEqual(['SYSTEM_ORGAN_SITE', 'Oropharynx']);
    expect(entities(text).filter((e) => e.Category === 'ANATOMY')).toEqual([]);
  });

  it('keeps the site an entity when no finding of its clause follows, or when the finding is a clause of its own', () => {
    const text = 'Lungs clear, no wheezing.';
    expect(find(text, 'Lungs').Category).toBe('ANATOMY');
    expect(attrs(find(text, 'wheezing'))).toEqual([]);
  });

  it('leaves a finding with a site of its own alone', () => {
    const text = 'Lungs with rhonchi at the left base.';
    expect(find(text, 'Lungs').Category).toBe('ANATOMY');
    expect(attrs(find(text, 'rhonchi'))).toEqual([['SYSTEM_ORGAN_SITE', 'left base']]);
  });
});

describe('occupations and services', () => {
  it('takes the trade words before an occupation with it', () => {
    expect(find('58 yo male, retired civil engineer, here for follow-up.', 'civil engineer').Type).toBe('PROFESSION');
    expect(find('She works as a high school chemistry teacher.', 'high school chemistry teacher').Type).toBe('PROFESSION');
    expect(find('He is a postal carrier.', 'postal carrier').Type).toBe('PROFESSION');
  });

  it('does not read an organ-named clinic or visit as anatomy', () => {
    for (const text of ['RENAL CLINIC NOTE', 'Pulmonary Clinic - Return Visit', 'Retina/Glaucoma Visit']) {
      expect(entities(text).filter((e) => e.Category === 'ANATOMY')).toEqual([]);
    }
  });
});

describe('sizes and grades', () => {
  it('reports a size or a grade written before a finding as its QUALITY', () => {
    expect(attrs(find('EGD: 3 cm hiatal hernia.', 'hiatal hernia'))).toContainEqual(['QUALITY', '3 cm']);
    expect(attrs(find('Two 5-7 mm polyps removed.', 'polyps'))).toContainEqual(['QUALITY', '5-7 mm']);
    expect(attrs(find('Bilateral grade 2 nasal polyps.', 'nasal polyps'))).toContainEqual(['QUALITY', 'grade 2']);
  });
});

describe('negation scopes', () => {
  it('negates a test or drug that is declined or not needed', () => {
    expect(traits(find('Pelvic exam declined by pt.', 'Pelvic exam'))).toContain('NEGATION');
    expect(traits(find('Ottawa ankle rules negative, x-rays not needed.', 'x-rays'))).toContain('NEGATION');
  });

  it('negates what follows "not on", but not a drug named as the cause of a negated finding', () => {
    expect(traits(find('OSA not on CPAP.', 'CPAP'))).toContain('NEGATION');
    const text = 'No muscle aches on the statin.';
    expect(traits(find(text, 'muscle aches'))).toContain('NEGATION');
    expect(traits(find(text, 'statin'))).not.toContain('NEGATION');
  });

  it('ends a negation where a comma opens a finding stated present', () => {
    const text = 'Knees without effusion, mild crepitus bilat.';
    expect(traits(find(text, 'effusion'))).toContain('NEGATION');
    expect(traits(find(text, 'crepitus'))).not.toContain('NEGATION');
    const stools = 'Two loose stools yesterday, none today.';
    expect(traits(find(stools, 'loose stools'))).not.toContain('NEGATION');
  });
});

describe('test values', () => {
  it('does not take a count of time after a test for its value', () => {
    const cbc = find('Repeat CBC at 24-28 wks.', 'CBC');
    expect(attrs(cbc).filter(([type]) => type === 'TEST_VALUE')).toEqual([]);
    expect(attrs(find('Hgb at 9.8 today.', 'Hgb'))).toContainEqual(['TEST_VALUE', '9.8']);
  });
});
