// Behaviour of time expressions (time.ts) and of the second pass of test/procedure/treatment terms
// (procedures.tsv, compose.ts). Sentences are written for these tests, not taken from eval notes.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const times = (text: string): [string, string, string][] =>
  entities(text)
    .filter((e) => e.Category === 'TIME_EXPRESSION')
    .map((e) => [e.Text ?? '', e.Type ?? '', e.Attributes?.[0]?.Text ?? '']);
const ttp = (text: string): [string, string][] =>
  entities(text)
    .filter((e) => e.Category === 'TEST_TREATMENT_PROCEDURE')
    .map((e) => [e.Text ?? '', e.Type ?? '']);

describe('time expressions', () => {
  it('finds named parts of the day and periods', () => {
    expect(times('Cough began last evening.')).toEqual([['last evening', 'TIME_TO_DX_NAME', 'Cough']]);
    expect(times('Had one episode of vomiting this AM.')).toEqual([['this AM', 'TIME_TO_DX_NAME', 'vomiting']]);
    expect(times('Two courses of prednisone this year.')).toEqual([['this year', 'TIME_TO_MEDICATION_NAME', 'prednisone']]);
    expect(times('Wheezing since childhood.')).toEqual([['since childhood', 'TIME_TO_DX_NAME', 'Wheezing']]);
    expect(times('Dysuria since the weekend.')).toEqual([['since the weekend', 'TIME_TO_DX_NAME', 'Dysuria']]);
  });

  it('keeps approximations and open-ended counts in the span', () => {
    expect(times('Rash for about 3 weeks.')).toEqual([['about 3 weeks', 'TIME_TO_DX_NAME', 'Rash']]);
    expect(times('Reports 6+ months of fatigue.')).toEqual([['6+ months', 'TIME_TO_DX_NAME', 'fatigue']]);
    expect(times('Last took ibuprofen months ago.')).toEqual([['months ago', 'TIME_TO_MEDICATION_NAME', 'ibuprofen']]);
  });

  it('links "N days of X" to X, and a time after "culture of <finding>" to the test', () => {
    expect(times('Metformin started; now with 4 days of diarrhea.')).toEqual([['4 days', 'TIME_TO_DX_NAME', 'diarrhea']]);
    expect(times('Wound culture of the purulent drainage sent today.').map((t) => t[1])).toEqual(['TIME_TO_TEST_NAME']);
  });

  it('keeps a recheck interval when a test is rechecked, not a bare return visit', () => {
    expect(times('Recheck TSH in 6 weeks.')).toEqual([['in 6 weeks', 'TIME_TO_TEST_NAME', 'TSH']]);
    expect(times('Hypertension. Return in 3 months.')).toEqual([]);
  });

  it('skips frequencies, limits, course lengths, ages at an event and exam timings', () => {
    expect(times('Ice 20 min q2-3h for swelling.')).toEqual([]);
    expect(times('Avoid meals within 3 hours of bedtime for reflux.')).toEqual([]);
    expect(times('Change to amoxicillin to complete 7 days total.')).toEqual([]);
    expect(times('Febrile seizure at 18 months.')).toEqual([]);
    expect(times('BP 130/80 sitting, 110/70 standing at 3 min.')).toEqual([]);
  });
});

describe('tests, procedures and treatments', () => {
  it('knows everyday tests, scores and exam manoeuvres', () => {
    expect(ttp('Voiding trial passed; bladder scan 80 mL.')).toEqual([
      ['Voiding trial', 'TEST_NAME'],
      ['bladder scan', 'TEST_NAME'],
    ]);
    expect(ttp('Talar tilt negative, squeeze test negative.')).toEqual([
      ['Talar tilt', 'TEST_NAME'],
      ['squeeze test', 'TEST_NAME'],
    ]);
    expect(ttp('FeNO 45 ppb; CURB-65 score 1.').map((t) => t[0])).toContain('FeNO');
  });

  it('knows procedures and treatments', () => {
    expect(ttp('s/p panretinal photocoagulation and cold snare polypectomy')).toEqual([
      ['panretinal photocoagulation', 'PROCEDURE_NAME'],
      ['cold snare polypectomy', 'PROCEDURE_NAME'],
    ]);
    expect(ttp('Needs a rolling walker and hearing aids.')).toEqual([
      ['rolling walker', 'TREATMENT_NAME'],
      ['hearing aids', 'TREATMENT_NAME'],
    ]);
    expect(ttp('Home PT and OT.')).toEqual([
      ['PT', 'TREATMENT_NAME'],
      ['OT', 'TREATMENT_NAME'],
    ]);
  });

  it('does not read "vs", a hospital day, "Lungs CTA", "bear weight" or a named surgical team as tests or procedures', () => {
    expect(ttp('Viral vs bacterial pneumonia.')).toEqual([]);
    expect(ttp('PROGRESS NOTE - HD 4')).toEqual([]);
    expect(ttp('Lungs CTA bilaterally.')).toEqual([]);
    expect(ttp('Able to bear weight.')).toEqual([]);
    expect(ttp('Neurosurgery (Dr. Smith) consulted for coiling.')).toEqual([['coiling', 'PROCEDURE_NAME']]);
  });
});

describe('time expressions (sixth session, GUIDELINES.md)', () => {
  it('a future interval keeps "within"; a limit on a habit ("within 3 hours of bedtime") is not a time', () => {
    expect(times('- Coronary angiography within 24 hours.')).toEqual([['within 24 hours', 'TIME_TO_PROCEDURE_NAME', 'Coronary angiography']]);
    expect(times('Avoid meals within 3 hours of bedtime for reflux.')).toEqual([]);
  });

  it('a clock time after a test is when it was done, not its value', () => {
    const e = entities('ECG at 05:58: sinus rhythm.');
    expect(e.find((x) => x.Text === 'ECG')?.Attributes ?? []).toEqual([]);
    expect(times('ECG at 05:58: sinus rhythm.')).toEqual([['05:58', 'TIME_TO_TEST_NAME', 'ECG']]);
  });

  it('"since" with a month is a time; "in" with a month is a date', () => {
    expect(times('3 kg weight loss since March.')).toEqual([['since March', 'TIME_TO_DX_NAME', 'weight loss']]);
    expect(entities('A1c 7.2% in August.').filter((x) => x.Type === 'DATE').map((x) => x.Text)).toEqual(['August']);
  });

  it('a clock time joins the day after it; postpartum days, seasons and afternoons are times', () => {
    expect(times('He fell at about 14:30 today.')).toEqual([['about 14:30 today', 'TIME_TO_DX_NAME', 'fell']]);
    expect(times('Postpartum day 6 after a cesarean section.')).toEqual([['Postpartum day 6', 'TIME_TO_PROCEDURE_NAME', 'cesarean section']]);
    expect(times('Influenza vaccine this season.')).toEqual([['this season', 'TIME_TO_MEDICATION_NAME', 'Influenza vaccine']]);
    expect(times('Headaches in the afternoon.')).toEqual([['in the afternoon', 'TIME_TO_DX_NAME', 'Headaches']]);
  });
});

describe('time expressions (sixth session, after set N)', () => {
  it('seconds, "the first 48 hours", "at the end of the day", "by evening", "the night before admission"', () => {
    expect(times('Brief loss of consciousness, less than 30 seconds.')).toEqual([['less than 30 seconds', 'TIME_TO_DX_NAME', 'loss of consciousness']]);
    expect(times('Avoid ibuprofen for the first 48 hours.')).toEqual([['the first 48 hours', 'TIME_TO_MEDICATION_NAME', 'ibuprofen']]);
    expect(times('Blurry vision at the end of the day.')).toEqual([['at the end of the day', 'TIME_TO_DX_NAME', 'Blurry vision']]);
    expect(times('Swelling of the fingers by evening.')).toEqual([['by evening', 'TIME_TO_DX_NAME', 'Swelling']]);
    expect(times('Rigors the night before admission.')).toEqual([['the night before admission', 'TIME_TO_DX_NAME', 'Rigors']]);
  });

  it('"on" before a weekday is left out (GUIDELINES.md)', () => {
    expect(times('BMP on Friday.')).toEqual([['Friday', 'TIME_TO_TEST_NAME', 'BMP']]);
  });
});

describe('time expressions (after sets O and P)', () => {
  it('a time after a condition written after "prn" dates the drug', () => {
    expect(times('albuterol HFA 2 puffs q4h prn wheezing (last used 2 months ago)')).toEqual([['2 months ago', 'TIME_TO_MEDICATION_NAME', 'albuterol']]);
  });

  it('"12 weeks on methotrexate" dates the drug', () => {
    expect(times('Psoriasis follow-up, 12 weeks on methotrexate.')).toEqual([['12 weeks', 'TIME_TO_MEDICATION_NAME', 'methotrexate']]);
  });

  it('"since" after a count opens a time of its own', () => {
    expect(times('Vomited 5-6 times since 04:00.')).toEqual([['since 04:00', 'TIME_TO_DX_NAME', 'Vomited']]);
    expect(times('Uses albuterol three times per week.')).toEqual([]);
  });
});
