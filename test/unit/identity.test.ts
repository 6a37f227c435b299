import { extractIdentity, normalizeDate, type PhiEntity } from '../../lambdas/collect-results/identity.js';
import { readFixture } from '../fixtures/steps/harness.js';

const PHI = 'PROTECTED_HEALTH_INFORMATION';

/**
 * DetectEntitiesV2 entities for `text`, as Comprehend Medical reports them: each spec names the
 * PHI type and the exact text (the n-th occurrence when given), offsets computed from the text.
 */
function entities(text: string, specs: [type: string, value: string, occurrence?: number][]): PhiEntity[] {
  return specs.map(([type, value, occurrence = 0], id) => {
    let at = -1;
    for (let i = 0; i <= occurrence; i++) at = text.indexOf(value, at + 1);
    if (at < 0) throw new Error(`fixture: "${value}" not in text`);
    return { Id: id, BeginOffset: at, EndOffset: at + value.length, Score: 0.98, Text: value, Category: PHI, Type: type, Traits: [] } as PhiEntity;
  });
}

const extract = (text: string, specs: [string, string, number?][], referenceYear?: number) =>
  extractIdentity(text, entities(text, specs), referenceYear === undefined ? {} : { referenceYear });

describe('extractIdentity: name', () => {
  it('prefers the name after "Patient:" over an earlier provider name', () => {
    const text = 'Attending: Dr. Ann Lee\nPatient: Tom Ray\nSeen for cough.';
    expect(extract(text, [['NAME', 'Ann Lee'], ['NAME', 'Tom Ray']]).full_name).toBe('Tom Ray');
  });

  it.each([
    ['Name: Sara Diaz, 40 F', 'Sara Diaz'],
    ['Patient name: Sara Diaz', 'Sara Diaz'],
    ["Patient's name - Sara Diaz", 'Sara Diaz'],
    ['Pt: Sara Diaz', 'Sara Diaz'],
    ['Pt. Sara Diaz presents with fever', 'Sara Diaz'],
    ['PATIENT Sara Diaz', 'Sara Diaz'],
  ])('reads the label in %j', (text, expected) => {
    expect(extract(`Seen with Dr. Ann Lee. ${text}`, [['NAME', 'Ann Lee'], ['NAME', 'Sara Diaz']]).full_name).toBe(expected);
  });

  it('does not take a provider label for the patient label', () => {
    const text = 'Physician name: Ann Lee\nEmergency contact name: Bob Hart\nJoe Park is a 50 year old man.';
    expect(extract(text, [['NAME', 'Ann Lee'], ['NAME', 'Bob Hart'], ['NAME', 'Joe Park']]).full_name).toBe('Joe Park');
  });

  it('falls back to the first name that is not a provider or a relative', () => {
    const text = 'Seen by Dr. Ann Lee and nurse Kim Cho, then Ben Hall, MD. Mother Amy Fox present. Leo Fox, 6 yo, has otitis.';
    const specs: [string, string][] = [['NAME', 'Ann Lee'], ['NAME', 'Kim Cho'], ['NAME', 'Ben Hall'], ['NAME', 'Amy Fox'], ['NAME', 'Leo Fox']];
    expect(extract(text, specs).full_name).toBe('Leo Fox');
  });

  it('skips a name whose text carries the title', () => {
    const text = 'Dr. Ann Lee saw Leo Fox today.';
    expect(extract(text, [['NAME', 'Dr. Ann Lee'], ['NAME', 'Leo Fox']]).full_name).toBe('Leo Fox');
  });

  it('is empty without a NAME entity, and ignores NAME-typed entities of other categories', () => {
    const text = 'Patient: Tom Ray. Cough.';
    const [name] = entities(text, [['NAME', 'Tom Ray']]);
    expect(extractIdentity(text, []).full_name).toBe('');
    expect(extractIdentity(text, [{ ...name, Category: 'MEDICATION' }]).full_name).toBe('');
  });

  it('collapses a name split over lines into one line', () => {
    const text = 'Patient: Maria\n  Lopez\nDOB unknown';
    expect(extract(text, [['NAME', 'Maria\n  Lopez']]).full_name).toBe('Maria Lopez');
  });
});

describe('extractIdentity: date of birth', () => {
  it.each([
    ['DOB: 03/14/1962', '03/14/1962', '1962-03-14'],
    ['D.O.B. 3/4/1962', '3/4/1962', '1962-03-04'],
    ['d.o.b.: 1962-03-14', '1962-03-14', '1962-03-14'],
    ['Date of birth: March 14, 1962', 'March 14, 1962', '1962-03-14'],
    ['Birth date 14 Mar 1962', '14 Mar 1962', '1962-03-14'],
    ['She was born on the 14th of March 1962', '14th of March 1962', '1962-03-14'],
    ['born in Boston on 14-Mar-1962', '14-Mar-1962', '1962-03-14'],
    ['DOB: 25/12/1980', '25/12/1980', '1980-12-25'],
  ])('finds %j', (text, date, expected) => {
    expect(extract(`Visit 01/05/2026. ${text}.`, [['DATE', '01/05/2026'], ['DATE', date]]).date_of_birth).toBe(expected);
  });

  it('ignores dates without a birth label (visit, admission, another date after the DOB)', () => {
    const text = 'Admitted 01/02/2026 and discharged 01/05/2026 after surgery on 01/03/2026.';
    expect(extract(text, [['DATE', '01/02/2026'], ['DATE', '01/05/2026'], ['DATE', '01/03/2026']]).date_of_birth).toBe('');
  });

  it('takes the labelled date even when other dates come first', () => {
    const text = 'Seen 02/01/2026. Last visit 11/20/2025. DOB 7/8/1944.';
    expect(extract(text, [['DATE', '02/01/2026'], ['DATE', '11/20/2025'], ['DATE', '7/8/1944']]).date_of_birth).toBe('1944-07-08');
  });

  it('keeps an unparsable or incomplete date as written', () => {
    expect(extract('DOB: March 1962', [['DATE', 'March 1962']]).date_of_birth).toBe('March 1962');
    expect(extract('DOB: 02/30/1990', [['DATE', '02/30/1990']]).date_of_birth).toBe('02/30/1990');
  });

  it('reads two-digit years against the reference year, and keeps them without one', () => {
    expect(extract('DOB: 3/4/52', [['DATE', '3/4/52']], 2026).date_of_birth).toBe('1952-03-04');
    expect(extract('DOB: 3/4/19', [['DATE', '3/4/19']], 2026).date_of_birth).toBe('2019-03-04');
    expect(extract('DOB: 3/4/52', [['DATE', '3/4/52']]).date_of_birth).toBe('3/4/52');
  });
});

describe('normalizeDate', () => {
  it.each([
    ['2000-02-29', '2000-02-29'],
    ['2000/2/9', '2000-02-09'],
    ['20000229', '2000-02-29'],
    ['12.31.1999', '1999-12-31'],
    ['Sept. 3rd, 1971', '1971-09-03'],
    ['3 September 1971', '1971-09-03'],
    ['December 1, 1999.', '1999-12-01'],
  ])('%j -> %j', (raw, expected) => {
    expect(normalizeDate(raw)).toBe(expected);
  });

  it.each(['1900-02-29', '2001-02-29', '13/13/2000', '00/10/2000', '10/00/2000', '1/2/2000 10:00', 'Smarch 3, 1999', 'yesterday', '03/14-1962'])(
    'rejects %j',
    (raw) => {
      expect(normalizeDate(raw)).toBeUndefined();
    },
  );
});

describe('extractIdentity: phone, email, address, MRN', () => {
  it('takes the first phone that is not a fax', () => {
    const text = 'Fax: 555-0100\nPhone: 555-0101 (fax) 555-0102\nCell 555-0103';
    const specs: [string, string][] = [['PHONE_OR_FAX', '555-0100'], ['PHONE_OR_FAX', '555-0101'], ['PHONE_OR_FAX', '555-0102'], ['PHONE_OR_FAX', '555-0103']];
    expect(extract(text, specs).phone).toBe('555-0103');
    expect(extract('Tel 555-0101, fax 555-0102', [['PHONE_OR_FAX', '555-0101'], ['PHONE_OR_FAX', '555-0102']]).phone).toBe('555-0101');
    expect(extract('Fax number 555-0100', [['PHONE_OR_FAX', 'Fax number 555-0100']]).phone).toBe('');
  });

  it('takes the first email', () => {
    expect(extract('Email a.b@example.org or c@example.org', [['EMAIL', 'a.b@example.org'], ['EMAIL', 'c@example.org']]).email).toBe('a.b@example.org');
  });

  it('joins adjacent address entities, across a line break', () => {
    const text = 'Address: 12 Elm St\nSpringfield, IL 62704\nPhone 555-0100';
    const specs: [string, string][] = [['ADDRESS', '12 Elm St'], ['ADDRESS', 'Springfield'], ['ADDRESS', 'IL'], ['ADDRESS', '62704']];
    expect(extract(text, specs).address).toBe('12 Elm St, Springfield, IL 62704');
  });

  it('prefers a labelled address, then one with a number, over a place of birth', () => {
    const born = 'Born in Austin. Moved to Dallas. Resides at 4 Main St, Waco.';
    expect(extract(born, [['ADDRESS', 'Austin'], ['ADDRESS', 'Dallas'], ['ADDRESS', '4 Main St'], ['ADDRESS', 'Waco']]).address).toBe('4 Main St, Waco');
    const numbered = 'Born in Austin. Now 4 Main St, Waco.';
    expect(extract(numbered, [['ADDRESS', 'Austin'], ['ADDRESS', '4 Main St'], ['ADDRESS', 'Waco']]).address).toBe('4 Main St, Waco');
    expect(extract('From Austin.', [['ADDRESS', 'Austin']]).address).toBe('Austin');
  });

  it.each([
    ['MRN: 0012345', '0012345'],
    ['MRN #0012345', '0012345'],
    ['Medical record number 0012345', '0012345'],
    ['Med Rec #: 0012345', '0012345'],
    ['MR# 0012345', '0012345'],
  ])('reads the MRN in %j as written', (text, expected) => {
    expect(extract(`Insurance ID: XJ-77. ${text}`, [['ID', 'XJ-77'], ['ID', '0012345']]).mrn).toBe(expected);
  });

  it('strips a label Comprehend kept inside the ID, and ignores unlabelled ids', () => {
    expect(extract('See MRN: 0012345', [['ID', 'MRN: 0012345']]).mrn).toBe('0012345');
    expect(extract('Insurance ID: XJ-77; SSN 123-45-6789', [['ID', 'XJ-77'], ['ID', '123-45-6789']]).mrn).toBe('');
  });
});

describe('extractIdentity: offsets', () => {
  it('finds the entity by its text when the offsets are shifted (e.g. counted in code points)', () => {
    const text = '😀 note. Pt: Ana Ruiz. DOB: 1/2/1970';
    const specs = entities(text, [['NAME', 'Ana Ruiz'], ['DATE', '1/2/1970']]).map((e) => ({
      ...e,
      BeginOffset: (e.BeginOffset ?? 0) - 1,
      EndOffset: (e.EndOffset ?? 0) - 1,
    }));
    expect(extractIdentity(text, specs)).toMatchObject({ full_name: 'Ana Ruiz', date_of_birth: '1970-01-02' });
  });

  it('uses the offsets when the entity has no text, and skips entities it cannot place', () => {
    const text = 'Patient: Ana Ruiz';
    expect(extractIdentity(text, [{ Type: 'NAME', Category: PHI, BeginOffset: 9, EndOffset: 17 }]).full_name).toBe('Ana Ruiz');
    expect(extractIdentity(text, [{ Type: 'NAME', Category: PHI, Text: 'Nobody', BeginOffset: 9, EndOffset: 15 }]).full_name).toBe('');
    expect(extractIdentity(text, [{ Type: 'NAME', Category: PHI, BeginOffset: 40, EndOffset: 45 }]).full_name).toBe('');
  });
});

describe('extractIdentity on the step fixtures (DetectEntitiesV2 responses)', () => {
  const load = (doc: string) => ({
    text: readFixture(`notes/${doc}.txt`),
    entities: (JSON.parse(readFixture(`notes/${doc}.entities.json`)) as { Entities: PhiEntity[] }).Entities,
  });

  it('reads a labelled header (doc-a)', () => {
    const { text, entities: detected } = load('doc-a');
    expect(extractIdentity(text, detected, { referenceYear: 2026 })).toEqual({
      full_name: 'Maria Elena Lopez',
      date_of_birth: '1962-03-14',
      phone: '(217) 555-0142',
      email: 'maria.lopez@example.com',
      address: '1452 Oak Street, Springfield, IL 62704',
      mrn: '00482913',
    });
  });

  it('reads a narrative note with a referring doctor, a relative and a birthplace (doc-b)', () => {
    const { text, entities: detected } = load('doc-b');
    expect(extractIdentity(text, detected, { referenceYear: 2026 })).toEqual({
      full_name: 'John A. Smith',
      date_of_birth: '1953-07-04',
      phone: '617-555-0100',
      email: '',
      address: '88 Harbor Rd, Apt 4, Boston, MA 02110',
      mrn: 'A-99812',
    });
  });
});
