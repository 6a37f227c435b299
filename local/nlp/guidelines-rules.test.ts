// Rules from eval/GUIDELINES.md (fifth session), tuned on dev notes 01–44, 63–80 and on set H
// (135–152) after its one blind run. Sentences are written for these tests, not taken from eval notes.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const of = (text: string, category: string): string[] => entities(text).filter((e) => e.Category === category).map((e) => e.Text ?? '');
const times = (text: string): string[] => of(text, 'TIME_EXPRESSION');
const attrs = (text: string, name: string, type: string): string[] =>
  (entities(text).find((e) => e.Text === name)?.Attributes ?? []).filter((a) => a.Type === type).map((a) => a.Text ?? '');

describe('ANATOMY: exam headings', () => {
  it('a heading naming a body region is the subject of its finding: an entity ("Heart: RRR", "HEENT:")', () => {
    const text = 'Exam:\nHEENT: unremarkable.\nHeart: regular rhythm, no murmur.\nLungs: clear to auscultation.\nAbdomen: soft.\nExtremities: warm, no edema.';
    expect(of(text, 'ANATOMY')).toEqual(['HEENT', 'Heart', 'Lungs', 'Abdomen', 'Extremities']);
  });

  it('a heading whose first finding is a condition with no site of its own is that condition\'s site', () => {
    const text = 'Abdomen: distended and tympanitic.';
    expect(of(text, 'ANATOMY')).toEqual([]);
    expect(attrs(text, 'distended', 'SYSTEM_ORGAN_SITE')).toEqual(['Abdomen']);
  });

  it('a heading with nothing after it on its line is a field label, not anatomy', () => {
    expect(of('Skin:\n- warm and dry', 'ANATOMY')).toEqual([]);
  });

  it('"walked 300 feet" is a length, not a site', () => {
    expect(of('Walked 300 feet with physical therapy today.', 'ANATOMY')).toEqual([]);
    expect(of('Ulcer on the left foot.', 'ANATOMY').length + (attrs('Ulcer on the left foot.', 'Ulcer', 'SYSTEM_ORGAN_SITE').length)).toBe(1);
  });

  it('tendons and nails are sites', () => {
    expect(of('MRI shoulder: biceps tendon intact.', 'ANATOMY')).toContain('biceps tendon');
  });
});

describe('TIME_EXPRESSION: spans and forms', () => {
  it('clock times are times; ratios are not', () => {
    expect(times('Vomited once at 06:30 and again at 21:00.')).toEqual(['06:30', '21:00']);
    expect(times('Epinephrine 1:100 and I:E ratio 1:2 with fever.')).toEqual([]);
  });

  it('"more than", "at least" stay inside the amount', () => {
    expect(times('Call 911 if chest pain lasts more than 15 minutes.')).toEqual(['more than 15 minutes']);
  });

  it('hospital days and days of illness', () => {
    expect(times('Now hospital day 3 for pneumonia.')).toEqual(['hospital day 3']);
    expect(times('Cough on day 4 of illness.')).toEqual(['day 4 of illness']);
  });

  it('"in childhood" drops "in"; "since childhood" keeps "since"', () => {
    expect(times('Frequent sunburns in childhood.')).toEqual(['childhood']);
    expect(times('Asthma since childhood.')).toEqual(['since childhood']);
  });

  it('"the first trimester", "the first week"', () => {
    expect(times('Nausea in the first trimester, resolved.')).toEqual(['the first trimester']);
  });

  it('"over" stays before a named period, goes before an amount', () => {
    expect(times('Wheezing started over the weekend.')).toEqual(['over the weekend']);
    expect(times('Headaches worse over the past 2 weeks.')).toEqual(['the past 2 weeks']);
  });

  it('clock times take "since"/"around" and a following part of day', () => {
    expect(times('Flank pain since 04:00 this morning.')).toEqual(['since 04:00 this morning']);
    expect(times('Fell around 02:00 and hit her head.')).toEqual(['around 02:00']);
  });

  it('post-op days, "since admission", last season', () => {
    expect(times('Now post-op day 2 after hip fracture repair.')).toEqual(['post-op day 2']);
    expect(times('Afebrile on vancomycin since admission.')).toEqual(['since admission']);
    expect(times('Had influenza last winter.')).toEqual(['last winter']);
  });

  it('"a night" after an amount of sleep is a rate, not a time', () => {
    expect(times('Insomnia: sleeps 4 hours a night.')).not.toContain('a night');
  });
});

describe('after set J (tuned on the guideline-era dev sets 135–188)', () => {
  const traitsOf = (text: string, name: string): string[] => (entities(text).find((e) => e.Text === name)?.Traits ?? []).map((t) => t.Name ?? '');

  it('a drug stopped or held is NEGATION, each drug of a list', () => {
    const text = 'Plan: Stop doxazosin and hydrochlorothiazide now. Continue metformin 500 mg bid.';
    expect(traitsOf(text, 'doxazosin')).toContain('NEGATION');
    expect(traitsOf(text, 'hydrochlorothiazide')).toContain('NEGATION');
    expect(traitsOf(text, 'metformin')).not.toContain('NEGATION');
    expect(traitsOf('Lisinopril held for hypotension.', 'Lisinopril')).toContain('NEGATION');
  });

  it('a site naming a pulse or a measurement is not anatomy ("dorsalis pedis pulse 2+", "neck circumference")', () => {
    expect(of('Dorsalis pedis pulse 2+ bilaterally.', 'ANATOMY')).toEqual([]);
    expect(of('BMI 37.8, neck circumference 46 cm.', 'ANATOMY')).toEqual([]);
  });

  it('an organ word naming a service or a job is not anatomy', () => {
    expect(of('PULMONARY / SLEEP MEDICINE CLINIC', 'ANATOMY')).toEqual([]);
    expect(of('Works as a dental assistant.', 'ANATOMY')).toEqual([]);
  });

  it('"Back:" as an exam heading is a site; "Back to baseline" is not', () => {
    expect(of('Exam:\nBack: mild tenderness over the paraspinal area.', 'ANATOMY')).toContain('Back');
    expect(of('Back to baseline mental status.', 'ANATOMY')).toEqual([]);
  });

  it('"redness involves the cheeks": the sites are the finding\'s', () => {
    const text = 'Redness involves the cheeks and nose.';
    expect(of(text, 'ANATOMY')).toEqual([]);
    expect(attrs(text, 'Redness', 'SYSTEM_ORGAN_SITE')).toEqual(['cheeks', 'nose']);
  });
});

describe('after set K (tuned on the dev sets 135–206)', () => {
  it('"sudden cardiac death" is a condition, not a cardiac site', () => {
    expect(of('FH: father died of sudden cardiac death at 59.', 'ANATOMY')).toEqual([]);
    expect(of('FH: father died of sudden cardiac death at 59.', 'MEDICAL_CONDITION')).toEqual(['sudden cardiac death']);
  });

  it('named nerves are sites; "renal dietitian" and "Pelvic:" are not', () => {
    expect(of('Right median nerve: distal motor latency 6.2 ms.', 'ANATOMY')).toEqual(['median nerve']);
    expect(of('Renal dietitian referral.', 'ANATOMY')).toEqual([]);
    expect(of('Pelvic: normal external genitalia.', 'ANATOMY')).toEqual(['external genitalia']);
  });
});
