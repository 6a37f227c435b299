// Second round of anatomy and time rules, cross-validated on the two dev groups (01–44, 63–80).
// Sentences are written for these tests, not taken from eval notes.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const of = (text: string, category: string): string[] => entities(text).filter((e) => e.Category === category).map((e) => e.Text ?? '');
const times = (text: string): [string, string][] => entities(text).filter((e) => e.Category === 'TIME_EXPRESSION').map((e) => [e.Text ?? '', e.Type ?? '']);
const attrs = (text: string, name: string, type: string): string[] =>
  (entities(text).find((e) => e.Text === name)?.Attributes ?? []).filter((a) => a.Type === type).map((a) => a.Text ?? '');

describe('anatomy, round 2', () => {
  it('a direction may open an exam clause before its site ("- L knee: effusion"); it qualifies the finding', () => {
    const text = '- L knee: moderate effusion.';
    expect(of(text, 'ANATOMY')).toEqual([]);
    expect(attrs(text, 'effusion', 'SYSTEM_ORGAN_SITE')).toEqual(['knee']);
    expect(attrs(text, 'effusion', 'DIRECTION')).toEqual(['L']);
  });

  it('findings joined by "and" share the site written after the last of them', () => {
    const text = 'Right ankle: swelling and ecchymosis over the lateral malleolus.';
    expect(attrs(text, 'swelling', 'SYSTEM_ORGAN_SITE')).toEqual(['lateral malleolus']);
    expect(of(text, 'ANATOMY')).toEqual(['ankle']);
  });

  it('a site naming a vascular access device is not anatomy', () => {
    expect(of('Lines: right IJ central venous catheter, left radial arterial line.', 'ANATOMY')).toEqual([]);
  });

  it('a site in apposition may follow qualities in apposition ("Cataract, mild, both eyes")', () => {
    const text = 'Cataract, mild, both eyes.';
    expect(of(text, 'ANATOMY')).toEqual([]);
    expect(attrs(text, 'Cataract', 'SYSTEM_ORGAN_SITE')).toEqual(['eyes']);
  });
});

describe('time expressions, round 2', () => {
  it('"for the past N" after a drug\'s sig is its DURATION, not a time', () => {
    const text = 'Taking naproxen 500 mg bid for the past 3 months.';
    expect(times(text)).toEqual([]);
    expect(attrs(text, 'naproxen', 'DURATION')).toEqual(['the past 3 months']);
    expect(attrs('Has taken ibuprofen as needed for the past week.', 'ibuprofen', 'DURATION')).toEqual(['the past week']);
  });

  it('"within N" is a limit, not the time of an event', () => {
    expect(times('Brief syncope, back to baseline within a minute.')).toEqual([]);
  });

  it('an interval to come after a drug is a time of the drug (eval/GUIDELINES.md; changed in the fifth session)', () => {
    expect(times('Hepatitis B vaccine dose 1 today, dose 2 in 1 month.')).toEqual([['today', 'TIME_TO_MEDICATION_NAME'], ['in 1 month', 'TIME_TO_MEDICATION_NAME']]);
    expect(times('If no better in 3 months, consider topiramate.')).toEqual([['in 3 months', 'TIME_TO_MEDICATION_NAME']]);
  });

  it('a count of time after "after" that follows a drug is its course or dosing interval', () => {
    expect(times('Stop prednisone after 3 more days.')).toEqual([]);
    expect(times('Rizatriptan 10 mg at onset, may repeat once after 2 hours.')).toEqual([]);
  });

  it('"every day" is a frequency; "every 3 months" with a test is a time', () => {
    expect(times('He checks his sugars every day and is on metformin.')).toEqual([]);
    expect(times('Check A1c every 3 months.')).toEqual([['every 3 months', 'TIME_TO_TEST_NAME']]);
  });
});
