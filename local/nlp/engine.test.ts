import { readFileSync } from 'node:fs';
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2, ENGINE_MODEL_VERSION, inferSnomedCt } from './index.js';

const NOTE = readFileSync(new URL('./fixtures/sample-note.txt', import.meta.url), 'utf8');

const find = (entities: Entity[] | undefined, text: string, from = 0): Entity => {
  const e = (entities ?? []).find((x) => x.Text === text && (x.BeginOffset ?? 0) >= from);
  if (e === undefined) throw new Error(`no entity "${text}"`);
  return e;
};
const traitNames = (e: Entity): string[] => (e.Traits ?? []).map((t) => t.Name ?? '');
const attrs = (e: Entity): [string, string][] => (e.Attributes ?? []).map((a) => [a.Type ?? '', a.Text ?? '']);

describe('detectEntitiesV2', () => {
  it('reproduces the AWS getting-started example exactly', () => {
    const text = 'aspirin is required 20 mg po daily for 2 times as tab';
    const r = detectEntitiesV2(text);
    expect(r.ModelVersion).toBe(ENGINE_MODEL_VERSION);
    expect(r.Entities).toHaveLength(1);
    const e = r.Entities?.[0] as Entity;
    expect([e.Category, e.Type, e.Text, e.BeginOffset, e.EndOffset]).toEqual(['MEDICATION', 'GENERIC_NAME', 'aspirin', 0, 7]);
    // Type, text and exact offsets of all five attributes, as in the getting-started guide.
    expect((e.Attributes ?? []).map((a) => [a.Type, a.Text, a.BeginOffset, a.EndOffset])).toEqual([
      ['DOSAGE', '20 mg', 20, 25],
      ['ROUTE_OR_MODE', 'po', 26, 28],
      ['FREQUENCY', 'daily', 29, 34],
      ['DURATION', '2 times', 39, 46],
      ['FORM', 'tab', 50, 53],
    ]);
    expect(e.Id).toBe(0);
    expect((e.Attributes ?? []).map((a) => a.Id)).toEqual([1, 2, 3, 4, 5]);
    for (const a of e.Attributes ?? []) {
      expect(a.Category).toBe('MEDICATION');
      expect(a.RelationshipType).toBe(a.Type);
      expect(text.slice(a.BeginOffset, a.EndOffset)).toBe(a.Text);
    }
  });

  it('reports exact offsets and unique ids shared by entities and attributes', () => {
    const r = detectEntitiesV2(NOTE);
    const ids = new Set<number>();
    const entityIds = new Set<number>();
    for (const e of r.Entities ?? []) {
      expect(NOTE.slice(e.BeginOffset, e.EndOffset)).toBe(e.Text);
      expect(ids.has(e.Id as number)).toBe(false);
      ids.add(e.Id as number);
      entityIds.add(e.Id as number);
      expect(e.Score).toBeGreaterThan(0);
      expect(e.Score).toBeLessThan(1);
    }
    for (const e of r.Entities ?? []) {
      for (const a of e.Attributes ?? []) {
        expect(NOTE.slice(a.BeginOffset, a.EndOffset)).toBe(a.Text);
        // An attribute either has its own id or points at a listed entity (time expressions).
        if (a.RelationshipType === 'OVERLAP') expect(entityIds.has(a.Id as number)).toBe(true);
        else {
          expect(ids.has(a.Id as number)).toBe(false);
          ids.add(a.Id as number);
        }
      }
    }
  });

  it('is deterministic', () => {
    expect(JSON.stringify(detectEntitiesV2(NOTE))).toBe(JSON.stringify(detectEntitiesV2(NOTE)));
    expect(JSON.stringify(inferSnomedCt(NOTE))).toBe(JSON.stringify(inferSnomedCt(NOTE)));
  });

  it('covers every category', () => {
    const r = detectEntitiesV2(NOTE);
    const cats = new Set((r.Entities ?? []).map((e) => e.Category));
    expect([...cats].sort()).toEqual([
      'ANATOMY',
      'BEHAVIORAL_ENVIRONMENTAL_SOCIAL',
      'MEDICAL_CONDITION',
      'MEDICATION',
      'PROTECTED_HEALTH_INFORMATION',
      'TEST_TREATMENT_PROCEDURE',
      'TIME_EXPRESSION',
    ]);
  });

  it('detects each PHI type', () => {
    const r = detectEntitiesV2(NOTE);
    const phi = (r.Entities ?? []).filter((e) => e.Category === 'PROTECTED_HEALTH_INFORMATION').map((e) => [e.Type, e.Text]);
    expect(phi).toEqual(
      expect.arrayContaining([
        ['NAME', 'John Smith'],
        ['ID', '00123456'],
        ['DATE', '03/14/1956'],
        ['NAME', 'Alice Wong'],
        ['DATE', 'March 3, 2024'],
        ['PHONE_OR_FAX', '(555) 123-4567'],
        ['EMAIL', 'jsmith@example.com'],
        ['ADDRESS', '42 Oak Street, Springfield, IL 62704'],
        ['URL', 'https://portal.example.org/pt/123'],
        ['AGE', '67-year-old'],
        ['PROFESSION', 'teacher'],
      ]),
    );
  });

  it('does not take field labels and title words for a profession or a name', () => {
    const text = 'Endocrinology New Patient Visit\nSurgeon: Dr. Thomas Greaves\nPrincipal diagnosis: COPD.\nED PHYSICIAN NOTE\nShe is a retired teacher.';
    const phi = (detectEntitiesV2(text).Entities ?? []).filter((e) => e.Category === 'PROTECTED_HEALTH_INFORMATION');
    expect(phi.map((e) => [e.Type, e.Text])).toEqual([
      ['NAME', 'Thomas Greaves'],
      ['PROFESSION', 'teacher'],
    ]);
  });

  it('finds brand and generic medications with their sig', () => {
    const r = detectEntitiesV2(NOTE);
    expect(attrs(find(r.Entities, 'metoprolol'))).toEqual([
      ['DOSAGE', '25 mg'],
      ['ROUTE_OR_MODE', 'po'],
      ['FREQUENCY', 'bid'],
    ]);
    const glargine = find(r.Entities, 'insulin glargine');
    expect(glargine.Type).toBe('GENERIC_NAME');
    expect(attrs(glargine)).toEqual([
      ['DOSAGE', '10 units'],
      ['ROUTE_OR_MODE', 'subcutaneously'],
      ['FREQUENCY', 'at bedtime'],
    ]);
    expect(find(r.Entities, 'Lipitor').Type).toBe('BRAND_NAME');
  });

  it('separates strength from dosage when a count of tablets is given', () => {
    const r = detectEntitiesV2('Clonidine 0.2 mgs -- 1 and 1 / 2 tabs po qhs');
    expect(attrs(find(r.Entities, 'Clonidine'))).toEqual([
      ['STRENGTH', '0.2 mgs'],
      ['DOSAGE', '1 and 1 / 2'],
      ['FORM', 'tabs'],
      ['ROUTE_OR_MODE', 'po'],
      ['FREQUENCY', 'qhs'],
    ]);
  });

  it('reads rates of infusions', () => {
    const r = detectEntitiesV2('Started heparin drip at 18 units/kg/hr IV.');
    expect(attrs(find(r.Entities, 'heparin'))).toEqual([
      ['ROUTE_OR_MODE', 'drip'],
      ['RATE', '18 units/kg/hr'],
      ['ROUTE_OR_MODE', 'IV'],
    ]);
  });

  it('attaches test values and units', () => {
    const r = detectEntitiesV2(NOTE);
    expect(attrs(find(r.Entities, 'HbA1c'))).toEqual([
      ['TEST_VALUE', '8.2'],
      ['TEST_UNIT', '%'],
    ]);
    expect(attrs(find(r.Entities, 'BP'))).toEqual([['TEST_VALUE', '150/95']]);
    expect(attrs(find(r.Entities, 'K'))).toEqual([['TEST_VALUE', '4.1']]);
  });

  it('attaches site, direction, quality and acuity to conditions', () => {
    const r = detectEntitiesV2('Severe rash on face and leg. Acute left knee pain.');
    expect(attrs(find(r.Entities, 'rash'))).toEqual([
      ['QUALITY', 'Severe'],
      ['SYSTEM_ORGAN_SITE', 'face'],
      ['SYSTEM_ORGAN_SITE', 'leg'],
    ]);
    // Anatomy used as an attribute is not listed again as an entity.
    expect((r.Entities ?? []).some((e) => e.Text === 'face')).toBe(false);
    expect(attrs(find(r.Entities, 'knee pain'))).toEqual([
      ['ACUITY', 'Acute'],
      ['DIRECTION', 'left'],
    ]);
  });

  it('links a site across a pain score and a site written before a morphological finding', () => {
    const r = detectEntitiesV2('Pain 5/10 in the R knee. Thyroid diffusely enlarged. Left tympanic membrane bulging.');
    expect(attrs(find(r.Entities, 'Pain'))).toEqual([
      ['DIRECTION', 'R'],
      ['SYSTEM_ORGAN_SITE', 'knee'],
    ]);
    expect(attrs(find(r.Entities, 'enlarged'))).toEqual([
      ['SYSTEM_ORGAN_SITE', 'Thyroid'],
      ['QUALITY', 'diffusely'],
    ]);
    expect(attrs(find(r.Entities, 'bulging'))).toEqual([
      ['DIRECTION', 'Left'],
      ['SYSTEM_ORGAN_SITE', 'tympanic membrane'],
    ]);
    expect((r.Entities ?? []).filter((e) => e.Category === 'ANATOMY')).toEqual([]);
  });

  it('expands abbreviations, case and misspellings', () => {
    for (const [text, expected] of [
      ['Hx of HTN, T2DM, CHF, COPD, CVA and AFib.', ['HTN', 'T2DM', 'CHF', 'COPD', 'CVA', 'AFib']],
      ['complains of SOB and CP', ['SOB', 'CP']],
      ['DIABETES MELLITUS and hypertention', ['DIABETES MELLITUS', 'hypertention']],
      ['recurrent UTIs', ['UTIs']],
    ] as const) {
      const got = (detectEntitiesV2(text).Entities ?? []).filter((e) => e.Category === 'MEDICAL_CONDITION').map((e) => e.Text);
      expect(got).toEqual(expected);
    }
  });
});

describe('clinical writing', () => {
  const texts = (text: string, category: string): string[] =>
    (detectEntitiesV2(text).Entities ?? []).filter((e) => e.Category === category).map((e) => e.Text ?? '');

  it('reads hyphenated, plural and possessive forms', () => {
    expect(texts('Started a beta-blocker; on beta blockers before.', 'MEDICATION')).toEqual(['beta-blocker', 'beta blockers']);
    expect(texts("Parkinson's disease and Parkinsons disease, kidney stones.", 'MEDICAL_CONDITION')).toEqual([
      "Parkinson's disease",
      'Parkinsons disease',
      'kidney stones',
    ]);
  });

  it('applies section defaults and lets list items inherit them', () => {
    const r = detectEntitiesV2('PMH: HTN, DM2, s/p CABG x3. FH: father with colon cancer.\nPlan: repeat A1c; refer for colonoscopy.');
    expect(traitNames(find(r.Entities, 'HTN'))).toContain('PAST_HISTORY');
    expect(traitNames(find(r.Entities, 'DM2'))).toContain('PAST_HISTORY');
    expect(traitNames(find(r.Entities, 'colon cancer'))).toContain('PERTAINS_TO_FAMILY');
    expect(traitNames(find(r.Entities, 'colonoscopy'))).toContain('FUTURE');
    // Section headers themselves are not entities.
    expect((r.Entities ?? []).some((e) => e.Text === 'Plan' || e.Text === 'PMH')).toBe(false);
  });

  it('does not take an abbreviation for a word of another sense', () => {
    expect(texts('Follow up with PCP in 2 weeks. Patient seen in the ED.', 'BEHAVIORAL_ENVIRONMENTAL_SOCIAL')).toEqual([]);
    expect(texts('Follow up with PCP in 2 weeks. Patient seen in the ED.', 'MEDICAL_CONDITION')).toEqual([]);
    // Case-sensitive abbreviations: "AS" is aortic stenosis only in capitals; "as" is a word.
    expect(texts('as needed', 'MEDICAL_CONDITION')).toEqual([]);
  });

  it('gives test values only to tests and keeps trailing qualities with their condition', () => {
    const r = detectEntitiesV2('s/p CABG x3 2010. Type 2 diabetes, poorly controlled, A1c 9.1%.');
    expect(find(r.Entities, 'CABG x3').Attributes).toEqual([]);
    expect(attrs(find(r.Entities, 'Type 2 diabetes'))).toEqual([['QUALITY', 'poorly controlled']]);
  });

  it('reads a medication list with brand names, routes and durations', () => {
    const r = detectEntitiesV2('On Lasix 40mg PO daily, started Eliquis 5 mg BID. Ibuprofen 600mg TID with food for 5 days.');
    expect(attrs(find(r.Entities, 'Lasix'))).toEqual([
      ['DOSAGE', '40mg'],
      ['ROUTE_OR_MODE', 'PO'],
      ['FREQUENCY', 'daily'],
    ]);
    expect(attrs(find(r.Entities, 'Eliquis'))).toEqual([
      ['DOSAGE', '5 mg'],
      ['FREQUENCY', 'BID'],
    ]);
    expect(attrs(find(r.Entities, 'Ibuprofen'))).toEqual([
      ['DOSAGE', '600mg'],
      ['FREQUENCY', 'TID with food'],
      ['DURATION', '5 days'],
    ]);
  });
});

describe('traits', () => {
  const traitsOf = (text: string, entity: string): string[] => traitNames(find(detectEntitiesV2(text).Entities, entity));

  it('negation stops at "but" and at sentence ends', () => {
    const text = 'Denies chest pain or fever but reports cough. Nausea present.';
    expect(traitsOf(text, 'chest pain')).toContain('NEGATION');
    expect(traitsOf(text, 'fever')).toContain('NEGATION');
    expect(traitsOf(text, 'cough')).not.toContain('NEGATION');
    expect(traitsOf(text, 'Nausea')).not.toContain('NEGATION');
  });

  it('handles "no evidence of", "negative for" and post-negation', () => {
    expect(traitsOf('No evidence of pneumonia.', 'pneumonia')).toContain('NEGATION');
    expect(traitsOf('ROS negative for headache, positive for dizziness.', 'headache')).toContain('NEGATION');
    expect(traitsOf('ROS negative for headache, positive for dizziness.', 'dizziness')).not.toContain('NEGATION');
    expect(traitsOf('Pulmonary embolism was ruled out.', 'Pulmonary embolism')).toContain('NEGATION');
    expect(traitsOf('Troponin negative.', 'Troponin')).not.toContain('NEGATION');
  });

  it('negates "no longer has", "negative <sign>" and "<finding>: none", but not "none since"', () => {
    expect(traitsOf('No longer has cough.', 'cough')).toContain('NEGATION');
    expect(traitsOf('Negative Murphy sign.', 'Murphy sign')).toContain('NEGATION');
    expect(traitsOf('Chest pain: none.', 'Chest pain')).toContain('NEGATION');
    expect(traitsOf('PMH: febrile seizure at 18 months, none since.', 'febrile seizure')).not.toContain('NEGATION');
    // A colon right after the trigger does not end its scope; a later one does.
    expect(traitsOf('Denies: chest pain, dyspnea, syncope.', 'syncope')).toContain('NEGATION');
    expect(traitsOf('No cough, otherwise well: rash on arm.', 'rash')).not.toContain('NEGATION');
  });

  it('puts a treatment of the plan in the future only when the plan refers or starts it', () => {
    const text = 'Plan:\n- Refer to physical therapy.\n- Low sodium diet.\n- Repeat CBC tomorrow.';
    expect(traitsOf(text, 'physical therapy')).toContain('FUTURE');
    expect(traitsOf(text, 'Low sodium diet')).not.toContain('FUTURE');
    expect(traitsOf(text, 'CBC')).toContain('FUTURE');
  });

  it('marks family history, hypothetical, past history, future and low confidence', () => {
    expect(traitsOf('Mother had breast cancer.', 'breast cancer')).toContain('PERTAINS_TO_FAMILY');
    expect(traitsOf('FH: father with MI at 50.', 'MI')).toContain('PERTAINS_TO_FAMILY');
    expect(traitsOf('Return if fever develops.', 'fever')).toContain('HYPOTHETICAL');
    expect(traitsOf('History of stroke in 2019.', 'stroke')).toContain('PAST_HISTORY');
    expect(traitsOf('S/p appendectomy.', 'appendectomy')).toContain('PAST_HISTORY');
    expect(traitsOf('Will schedule colonoscopy.', 'colonoscopy')).toContain('FUTURE');
    expect(traitsOf('Possible pneumonia.', 'pneumonia')).toContain('LOW_CONFIDENCE');
    expect(traitsOf('Former smoker, drinks socially.', 'smoker')).toContain('PAST_HISTORY');
    expect(traitsOf('Former smoker, drinks socially.', 'drinks')).not.toContain('PAST_HISTORY');
  });

  it('scopes family, negation terminators and two-way triggers', () => {
    expect(traitsOf('Her father has ulcerative colitis.', 'ulcerative colitis')).toContain('PERTAINS_TO_FAMILY');
    expect(traitsOf('Denies fever, has cough.', 'fever')).toContain('NEGATION');
    expect(traitsOf('Denies fever, has cough.', 'cough')).not.toContain('NEGATION');
    expect(traitsOf('DVT prophylaxis: heparin.', 'DVT')).toContain('HYPOTHETICAL');
    expect(traitsOf('Rule out C. difficile infection.', 'C. difficile infection')).toContain('HYPOTHETICAL');
    expect(traitsOf('Go to the ED for chest pain or fainting.', 'fainting')).toContain('HYPOTHETICAL');
    expect(traitsOf('Off pressors since this morning.', 'pressors')).toContain('NEGATION');
    expect(traitsOf('She is a never smoker.', 'smoker')).toContain('NEGATION');
  });

  it('labels conditions as sign, symptom or diagnosis', () => {
    const r = detectEntitiesV2('Fever, headache and pneumonia.');
    expect(traitNames(find(r.Entities, 'Fever'))).toContain('SIGN');
    expect(traitNames(find(r.Entities, 'headache'))).toContain('SYMPTOM');
    expect(traitNames(find(r.Entities, 'pneumonia'))).toContain('DIAGNOSIS');
  });

  it('keeps frequencies and words containing times out of time expressions', () => {
    const r = detectEntitiesV2('Overnight had hypotension. Checks sugars twice a day.');
    const times = (r.Entities ?? []).filter((e) => e.Category === 'TIME_EXPRESSION').map((e) => e.Text);
    expect(times).toEqual(['Overnight']);
  });

  it('links time expressions to the entity they overlap', () => {
    const r = detectEntitiesV2('Cough for 3 days.');
    const t = find(r.Entities, '3 days');
    expect([t.Category, t.Type]).toEqual(['TIME_EXPRESSION', 'TIME_TO_DX_NAME']);
    expect(t.Attributes?.[0]).toMatchObject({ Text: 'Cough', RelationshipType: 'OVERLAP', Id: find(r.Entities, 'Cough').Id });
  });
});

describe('inferSnomedCt', () => {
  it('returns schema-shaped output with details and characters', () => {
    const r = inferSnomedCt(NOTE);
    expect(r.ModelVersion).toBe(ENGINE_MODEL_VERSION);
    expect(r.SNOMEDCTDetails).toEqual({ Edition: 'US', Language: 'en', VersionDate: expect.stringMatching(/^\d{8}$/) });
    expect(r.Characters).toEqual({ OriginalTextCharacters: NOTE.length });
    for (const e of r.Entities ?? []) {
      expect(['MEDICAL_CONDITION', 'ANATOMY', 'TEST_TREATMENT_PROCEDURE']).toContain(e.Category);
      expect(NOTE.slice(e.BeginOffset, e.EndOffset)).toBe(e.Text);
      const concepts = e.SNOMEDCTConcepts ?? [];
      expect(concepts.length).toBeLessThanOrEqual(5);
      const scores = concepts.map((c) => c.Score ?? 0);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      for (const c of concepts) expect(c.Code).toMatch(/^\d{6,18}$/);
    }
  });

  it('resolves synonyms and abbreviations to the same concept', () => {
    const top = (text: string): string | undefined => inferSnomedCt(text).Entities?.[0]?.SNOMEDCTConcepts?.[0]?.Code;
    expect(top('heart attack')).toBe('22298006');
    expect(top('MI')).toBe('22298006');
    expect(top('myocardial infarction')).toBe('22298006');
    expect(top('shortness of breath')).toBe(top('SOB'));
    expect(top('high blood pressure')).toBe(top('HTN'));
  });

  it('uses the site to pick a more specific concept', () => {
    const r = inferSnomedCt('pain in the left knee');
    expect(r.Entities?.[0]?.SNOMEDCTConcepts?.[0]?.Code).toBe('30989003');
  });

  it('links specific concepts rather than their parents', () => {
    const top = (text: string): string | undefined => inferSnomedCt(text).Entities?.[0]?.SNOMEDCTConcepts?.[0]?.Code;
    expect(top('CKD stage 3')).toBe('433144002');
    expect(top('CKD')).toBe('709044004');
    expect(top('stiff neck')).toBe('161882006');
    expect(top('alcoholic cirrhosis')).toBe('420054005');
    expect(top('cirrhosis')).toBe('19943007');
    expect(top('CPAP')).toBe('47545007');
    expect(top('occupational therapy')).toBe('84478008');
    expect(top('physical therapy')).toBe('91251008');
    expect(top('dyspnea on exertion')).toBe('60845006');
    expect(top('COPD exacerbation')).toBe('195951007');
    // An uncoded test links to its head's concept.
    expect(top('growth ultrasound')).toBe(top('ultrasound'));
  });

  it('omits medications and PHI', () => {
    const r = inferSnomedCt('John Smith takes aspirin for angina.');
    expect((r.Entities ?? []).map((e) => e.Text)).toEqual(['angina']);
  });
});

describe('input handling', () => {
  it('accepts empty text and rejects non-strings', () => {
    expect(detectEntitiesV2('').Entities).toEqual([]);
    expect(inferSnomedCt('').Characters).toEqual({ OriginalTextCharacters: 0 });
    expect(() => detectEntitiesV2(42 as unknown as string)).toThrow(TypeError);
  });
});
