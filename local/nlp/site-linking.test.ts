// Sites and findings (sixth session), tuned on dev notes 135–224 after set L's one blind run.
// Sentences are written for these tests, not taken from eval notes.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const of = (text: string, category: string): string[] => entities(text).filter((e) => e.Category === category).map((e) => e.Text ?? '');
const sitesOf = (text: string, name: string): string[] =>
  (entities(text).find((e) => e.Text === name)?.Attributes ?? []).filter((a) => a.Type === 'SYSTEM_ORGAN_SITE').map((a) => a.Text ?? '');

describe('a finding and the site written after it', () => {
  it('a generic finding takes its site ("callus under the first metatarsal head", "stone at the UVJ")', () => {
    expect(sitesOf('Callus under the right heel.', 'Callus')).toEqual(['heel']);
    expect(sitesOf('CT: 5 mm stone in the left kidney.', 'stone')).toEqual(['kidney']);
    expect(of('Scant drainage from the ear.', 'ANATOMY')).toEqual([]);
  });

  it('words the lexicon does not know may stand inside the site\'s phrase', () => {
    expect(sitesOf('Swelling over the tibiotalar joint.', 'Swelling')).toEqual(['joint']);
    expect(sitesOf('Tremor of the outstretched hands.', 'Tremor')).toEqual(['hands']);
    expect(sitesOf('Fracture at the level of the syndesmosis.', 'Fracture')).toEqual(['syndesmosis']);
  });

  it('but not more than two of them, nor words with capitals', () => {
    expect(sitesOf('Swelling over the very large painful old knee.', 'Swelling')).toEqual([]);
  });

  it('a participle or a radiation verb may come between', () => {
    expect(sitesOf('A 1 cm stone impacted in the gallbladder.', 'stone')).toEqual(['gallbladder']);
    expect(sitesOf('Pain is sharp, 8/10, radiating to the left groin.', 'Pain')).toEqual(['groin']);
    expect(sitesOf('Pain is sharp, 8/10, and worse at night.', 'Pain')).toEqual([]);
  });

  it('an exam manoeuvre may come between ("to light touch over the left foot")', () => {
    expect(sitesOf('Decreased sensation to light touch over the left foot.', 'Decreased sensation')).toEqual(['foot']);
  });
});

describe('an exam line\'s subject', () => {
  it('is not the site of a finding placed by its own phrase, even one the lexicon does not know', () => {
    const text = 'Left foot: point tenderness at the medial calcaneal tubercle.';
    expect(of(text, 'ANATOMY')).toEqual(['foot']);
    expect(sitesOf(text, 'point tenderness')).toEqual([]);
  });

  it('but is the site of one placed only by a side ("dullness to percussion on the right")', () => {
    const text = 'Lungs: dullness to percussion on the right.';
    expect(sitesOf(text, 'dullness to percussion')).toEqual(['Lungs']);
  });

  it('a list of sites before "without" heads its finding', () => {
    const text = 'Shoulders, elbows and knees without effusion.';
    expect(sitesOf(text, 'effusion')).toEqual(['Shoulders', 'elbows', 'knees']);
    expect(of(text, 'ANATOMY')).toEqual([]);
  });

  it('two side words may open the line ("right upper chest with erythema")', () => {
    expect(sitesOf('Port site: right upper chest with erythema.', 'erythema')).toEqual(['chest']);
  });
});

describe('what is not an ANATOMY entity', () => {
  it('a bare site adjective left without a finding', () => {
    expect(of('Venous pH 7.21. Capillary refill brisk on the radial and ulnar sides.', 'ANATOMY')).toEqual([]);
  });

  it('but a site adjective heading an exam line is', () => {
    expect(of('Genital: normal.', 'ANATOMY')).toEqual(['Genital']);
  });

  it('"clean, dry and intact" and "moves all extremities" are not findings or sites', () => {
    expect(of('Right knee: incision clean, dry and intact.', 'MEDICAL_CONDITION')).toEqual([]);
    expect(of('Neuro: moves all extremities.', 'ANATOMY')).toEqual([]);
  });

  it('the nostril a spray goes into is a site, and "nasal" is the route', () => {
    const e = entities('fluticasone nasal spray 2 sprays each nostril daily');
    expect(e.filter((x) => x.Category === 'ANATOMY').map((x) => x.Text)).toEqual(['nostril']);
    const med = e.find((x) => x.Text === 'fluticasone');
    expect((med?.Attributes ?? []).map((a) => [a.Type, a.Text])).toEqual(expect.arrayContaining([['ROUTE_OR_MODE', 'nasal'], ['FORM', 'spray']]));
  });
});

describe('imaging tests and their sites (GUIDELINES rule 2)', () => {
  it('a site after "of" is the test\'s site, not part of its name', () => {
    const e = entities('MRI of the lumbar spine with contrast.');
    expect(e.filter((x) => x.Category === 'TEST_TREATMENT_PROCEDURE').map((x) => x.Text)).toEqual(['MRI']);
    expect(e.filter((x) => x.Category === 'ANATOMY').map((x) => x.Text)).toEqual(['lumbar spine']);
  });

  it('a site written with its side before the modality is the test\'s site; without a side it is the name', () => {
    expect(of('Left elbow x-ray: normal.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['x-ray']);
    expect(of('Left elbow x-ray: normal.', 'ANATOMY')).toEqual(['elbow']);
    expect(of('Chest x-ray: clear.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['Chest x-ray']);
  });
});

describe('a site with a generic head is one entity', () => {
  it('a condition ("thyroid disease", "eye symptoms") or a test or treatment ("ankle dorsiflexion", "foot checks", "chin strap")', () => {
    expect(of('No prior thyroid disease.', 'MEDICAL_CONDITION')).toEqual(['thyroid disease']);
    expect(of('Left ankle dorsiflexion 4+/5.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['ankle dorsiflexion']);
    expect(of('Daily foot checks at home; add a chin strap.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['foot checks', 'chin strap']);
    expect(of('No prior thyroid disease. Daily foot checks at home.', 'ANATOMY')).toEqual([]);
  });
});

describe('events and asides', () => {
  it('what one falls on is a site entity, not the site of the fall (GUIDELINES rule 4)', () => {
    const text = 'Wrist pain after a fall on an outstretched hand.';
    expect(of(text, 'ANATOMY')).toEqual(['hand']);
  });

  it('an exam subject does not reach into a parenthesis ("DEXA: femoral neck T-score -1.8), hypertension")', () => {
    const text = 'PMH: osteopenia (DEXA 2024: femoral neck T-score -1.8), hypertension.';
    expect(sitesOf(text, 'hypertension')).toEqual([]);
  });

  it('"Abdomen soft, nontender": a finding stated absent leaves the subject an entity (GUIDELINES rule 1)', () => {
    expect(of('Abdomen: soft, nontender.', 'ANATOMY')).toEqual(['Abdomen']);
    expect(sitesOf('Abdomen: soft, nontender, distended.', 'distended')).toEqual(['Abdomen']);
  });
});

describe('after set N', () => {
  it('a copula may stand between a finding and its place ("Pain is in both knees")', () => {
    expect(sitesOf('Pain is in both knees, right worse than left.', 'Pain')).toEqual(['knees']);
  });

  it('"Vascular:" names an exam, and "above heart level" is not a site', () => {
    expect(of('Vascular: radial pulses equal.', 'ANATOMY')).toEqual([]);
    expect(of('Elevate the leg above heart level for 30 minutes.', 'ANATOMY')).toEqual(['leg']);
  });
});

describe('negation in the term and in the sig', () => {
  const traitsOf = (text: string, name: string): string[] => (entities(text).find((e) => e.Text === name)?.Traits ?? []).map((t) => t.Name ?? '');

  it('"afebrile" and "nontoxic" state a finding absent: fever, with NEGATION', () => {
    expect(traitsOf('Afebrile, nontoxic, in no distress.', 'Afebrile')).toContain('NEGATION');
    expect(traitsOf('Afebrile, nontoxic, in no distress.', 'nontoxic')).toContain('NEGATION');
    expect(detectEntitiesV2('Afebrile.').Entities?.[0]?.Text).toBe('Afebrile');
  });

  it('a drug held after its sig, or "not started", is negated; one the history says was stopped is not', () => {
    expect(traitsOf('amlodipine 5 mg po daily held since admission for soft BPs', 'amlodipine')).toContain('NEGATION');
    expect(traitsOf('- Ciprofloxacin 500 mg po daily not started', 'Ciprofloxacin')).toContain('NEGATION');
    expect(traitsOf('- Stop scheduled ibuprofen; acetaminophen prn.', 'ibuprofen')).toContain('NEGATION');
    expect(traitsOf('She stopped her lithium 6 weeks ago because of tremor.', 'lithium')).not.toContain('NEGATION');
  });
});

describe('after sets O and P', () => {
  it('a region word places a finding as a site would: the exam subject stays an entity', () => {
    const text = 'Abdomen: soft, mild epigastric tenderness, no rebound.';
    expect(of(text, 'ANATOMY')).toEqual(['Abdomen']);
  });

  it('more generic heads: "nail involvement", "finger tapping", "skin testing", "heel boots"', () => {
    expect(of('Plaque psoriasis with nail involvement.', 'MEDICAL_CONDITION')).toContain('nail involvement');
    expect(of('Bradykinesia on finger tapping.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['finger tapping']);
    expect(of('Dust mite allergy on skin testing; heel boots at night.', 'ANATOMY')).toEqual([]);
  });

  it('a clock time with nothing to link in its sentence dates what its line names', () => {
    const e = entities('Ceftriaxone 1 g IV q24h; first dose given at 04:10.');
    expect(e.filter((x) => x.Category === 'TIME_EXPRESSION').map((x) => [x.Text, x.Attributes?.[0]?.Text])).toEqual([['04:10', 'Ceftriaxone']]);
  });

  it('"3 days a week", "3-4 energy drinks a day": a rate, not a time', () => {
    expect(entities('Uses ibuprofen about 3 days a week.').filter((x) => x.Category === 'TIME_EXPRESSION')).toEqual([]);
    expect(entities('Vomiting for a week.').filter((x) => x.Category === 'TIME_EXPRESSION').map((x) => x.Text)).toEqual(['a week']);
  });
});
