import {
  normalizeAddress,
  normalizeDate,
  normalizeEmail,
  normalizeName,
  normalizePhone,
  normalizeValue,
  stripAccents,
} from './normalize.js';

describe('Entity Resolution normalization', () => {
  it('names: trim, lowercase, accents stripped, letters only', () => {
    expect(normalizeName('  José-María O\'Neil ')).toBe('josemariaoneil');
    expect(normalizeName('ZOË Ærøskøbing')).toBe('zoeaeroskobing');
    expect(normalizeName('Dr. Smith 3rd')).toBe('drsmithrd');
    expect(normalizeName('李小龙')).toBe('李小龙');
    expect(stripAccents('Straße Łódź')).toBe('Strasse Lodz');
  });

  it('email: lowercase, dots and +suffix dropped from the user part only', () => {
    expect(normalizeEmail(' John.Smith+clinic@Example.CO.uk ')).toBe('johnsmith@example.co.uk');
    expect(normalizeEmail('j.smith@mail.example.com')).toBe('jsmith@mail.example.com');
    expect(normalizeEmail('not-an-email')).toBe('not-an-email');
  });

  it('phone: digits only, leading zeros removed', () => {
    expect(normalizePhone('(555) 123-4567')).toBe('5551234567');
    expect(normalizePhone('+1 555.123.4567')).toBe('15551234567');
    expect(normalizePhone('0044 20 7946 0958')).toBe('442079460958');
    expect(normalizePhone('ext. none')).toBe('');
  });

  it('address: lowercase, accents and punctuation gone, standard word maps, house numbers kept', () => {
    expect(normalizeAddress('123 North Main Street, Apt. 4')).toBe('123nmainstapt4');
    expect(normalizeAddress('123 N. Main St Apt #4')).toBe(normalizeAddress('123 north main street apartment number 4'));
    expect(normalizeAddress('10 Avenue Road')).toBe('10averd');
    expect(normalizeAddress('12 Main St')).not.toBe(normalizeAddress('34 Main St'));
    expect(normalizeAddress('5 Rue de l’Église')).toBe('5ruedeleglise');
  });

  it('dates: common formats to YYYY-MM-DD', () => {
    for (const input of ['1980-03-04', '1980/3/4', '19800304', '03/04/1980', '3-4-1980', '04.03.1980', 'March 4, 1980', 'Mar 4 1980', '4 March 1980', '4th Mar 1980', '1980-03-04T10:00:00Z']) {
      expect([input, normalizeDate(input)]).toEqual([input, '1980-03-04']);
    }
    expect(normalizeDate('25/12/1990')).toBe('1990-12-25'); // cannot be a month: day first
    expect(normalizeDate('02/30/1990')).toBe('02/30/1990'); // no such day: left as it is
    expect(normalizeDate(' Unknown ')).toBe('unknown');
  });

  it('dispatches on the attribute type', () => {
    expect(normalizeValue('NAME_FIRST', ' Ann ')).toBe('ann');
    expect(normalizeValue('PHONE_NUMBER', '555-0100')).toBe('5550100');
    expect(normalizeValue('EMAIL_ADDRESS', 'A.B@X.org')).toBe('ab@x.org');
    expect(normalizeValue('ADDRESS_STREET1', '1 Oak Avenue')).toBe('1oakave');
    expect(normalizeValue('ADDRESS_POSTALCODE', '02139-4307')).toBe('02139');
    expect(normalizeValue('ADDRESS_STATE', 'N.Y.')).toBe('ny');
    expect(normalizeValue('DATE', 'Jan 2 2001')).toBe('2001-01-02');
    expect(normalizeValue('STRING', ' MRN-0042 ')).toBe('MRN-0042');
    expect(normalizeValue('UNIQUE_ID', ' Rec-1 ')).toBe('Rec-1');
  });
});
