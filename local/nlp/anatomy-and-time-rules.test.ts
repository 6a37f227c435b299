// Rules for body sites that are not entities of their own, and for time expressions that date an
// event with no linkable entity, a frequency or a course length. Sentences are written for these
// tests, not taken from eval notes.
import type { Entity } from '@aws-sdk/client-comprehendmedical';
import { detectEntitiesV2 } from './index.js';

const entities = (text: string): Entity[] => detectEntitiesV2(text).Entities ?? [];
const of = (text: string, category: string): string[] => entities(text).filter((e) => e.Category === category).map((e) => e.Text ?? '');
const times = (text: string): [string, string][] => entities(text).filter((e) => e.Category === 'TIME_EXPRESSION').map((e) => [e.Text ?? '', e.Type ?? '']);
const sites = (text: string, finding: string): string[] =>
  (entities(text).find((e) => e.Text === finding)?.Attributes ?? []).filter((a) => a.Type === 'SYSTEM_ORGAN_SITE').map((a) => a.Text ?? '');

describe('body sites that are not entities of their own', () => {
  it('a site naming an exam item ("radial pulses", "deep tendon reflexes") is not anatomy', () => {
    expect(of('Radial pulses intact. Deep tendon reflexes 2+ and symmetric. Muscle strength 5/5.', 'ANATOMY')).toEqual([]);
  });

  it('an organ word naming a surgical service or a centre is not anatomy', () => {
    expect(of('Referral to hand surgery. Breast surgery consulted.', 'ANATOMY')).toEqual([]);
    expect(of('Follow up at the Heart Center.', 'ANATOMY')).toEqual([]);
  });

  it('the head of a hyphenated adjective is not a site', () => {
    expect(of('Knee-high compression stockings.', 'ANATOMY')).toEqual([]);
  });

  it('a site written right before a procedure or a one-word treatment is part of its name', () => {
    expect(of('s/p cervical spine fusion.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['cervical spine fusion']);
    expect(of('s/p cervical spine fusion.', 'ANATOMY')).toEqual([]);
    expect(of('Hand splint at night.', 'TEST_TREATMENT_PROCEDURE')).toEqual(['Hand splint']);
  });

  it('a site after "down", "from", "located in" is the site of the finding', () => {
    expect(sites('Back pain radiating down the left leg.', 'Back pain')).toEqual(['leg']);
    expect(sites('Pain located in the epigastrium.', 'Pain')).toEqual(['epigastrium']);
    expect(of('Back pain radiating down the left leg.', 'ANATOMY')).toEqual([]);
  });

  it('a structure the exam reports as normal is anatomy ("Pupils equal", "Cranial nerves intact", like "Lungs clear")', () => {
    expect(of('Neuro: cranial nerves intact. Pupils equal and reactive.', 'ANATOMY')).toEqual(['cranial nerves', 'Pupils']);
  });

  it('idioms with body words are not anatomy', () => {
    expect(of('Discussed face to face for 30 minutes. Hand hygiene reviewed.', 'ANATOMY')).toEqual([]);
  });
});

describe('time expressions: anchorless events, frequencies, course lengths', () => {
  it('a past time with nothing to link in its sentence dates an event of the illness', () => {
    expect(times('She rolled her ankle on the stairs 3 days ago.')).toEqual([['3 days ago', 'TIME_TO_DX_NAME']]);
    expect(times('Vomited twice this morning.')).toEqual([['this morning', 'TIME_TO_DX_NAME']]);
  });

  it('not when the sentence is about a habit, nor a future time', () => {
    expect(times('Quit smoking 20 years ago.')).toEqual([]);
    expect(times('She will come back next week.')).toEqual([]);
  });

  it('"N days a week" is a frequency', () => {
    expect(times('Takes naproxen 2 days per week.')).toEqual([]);
  });

  it('"x N weeks" after a treatment is the length of its course', () => {
    expect(times('Clobetasol ointment bid to plaques x 2 weeks.')).toEqual([]);
    expect(times('Headaches x 2 weeks.')).toEqual([['2 weeks', 'TIME_TO_DX_NAME']]);
  });

  it('a condition after "for" is the indication: the time dates the drug', () => {
    expect(times('She took ibuprofen for the cramps this week.')).toEqual([['this week', 'TIME_TO_MEDICATION_NAME']]);
  });
});
