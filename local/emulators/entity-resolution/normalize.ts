/**
 * Entity Resolution's standard normalization, as documented in its glossary ("Normalize data"),
 * applied per schema attribute type when an input source has `applyNormalization: true`.
 *
 * - names: trim, lowercase, strip accents, letters only
 * - email: trim, lowercase, strip accents; in the user part drop dots and a `+suffix`
 * - phone: digits only, leading zeros removed
 * - address: trim, lowercase, strip accents, standard word maps (street -> st, avenue -> ave,
 *   north -> n ...), then letters and digits only. The glossary says "letters only"; digits are
 *   kept here because without them every house on a street would share one address.
 * - dates: common formats to `YYYY-MM-DD` (day/month ambiguity read US first: 03/04/1980 is March 4)
 * - STRING, PROVIDER_ID, UNIQUE_ID: trim only. The glossary lists no rule for them, and case can
 *   be significant in identifiers (a lower-cased batch id in the output would name no batch).
 */

export const SCHEMA_ATTRIBUTE_TYPES = [
  'NAME',
  'NAME_FIRST',
  'NAME_MIDDLE',
  'NAME_LAST',
  'ADDRESS',
  'ADDRESS_STREET1',
  'ADDRESS_STREET2',
  'ADDRESS_STREET3',
  'ADDRESS_CITY',
  'ADDRESS_STATE',
  'ADDRESS_COUNTRY',
  'ADDRESS_POSTALCODE',
  'PHONE',
  'PHONE_NUMBER',
  'PHONE_COUNTRYCODE',
  'EMAIL_ADDRESS',
  'UNIQUE_ID',
  'DATE',
  'STRING',
  'PROVIDER_ID',
] as const;
export type SchemaAttributeType = (typeof SCHEMA_ATTRIBUTE_TYPES)[number];

export function isSchemaAttributeType(value: string): value is SchemaAttributeType {
  return (SCHEMA_ATTRIBUTE_TYPES as readonly string[]).includes(value);
}

/** The attribute family a type belongs to: NAME_FIRST -> NAME, ADDRESS_CITY -> ADDRESS, ... */
export function baseType(type: SchemaAttributeType): SchemaAttributeType {
  if (type.startsWith('NAME')) return 'NAME';
  if (type.startsWith('ADDRESS')) return 'ADDRESS';
  if (type.startsWith('PHONE')) return 'PHONE';
  return type;
}

/** Letters that NFD does not decompose into a base letter plus a combining mark. */
const UNDECOMPOSABLE: Record<string, string> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L',
  đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i',
};

export function stripAccents(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[ßẞæÆœŒøØłŁđĐðÐþÞı]/g, (c) => UNDECOMPOSABLE[c] ?? c);
}

export function normalizeName(value: string): string {
  // Unicode letters, not just a-z: a name in another script must not normalize to nothing.
  return stripAccents(value.trim().toLowerCase()).replace(/[^\p{L}]+/gu, '');
}

export function normalizeEmail(value: string): string {
  const email = stripAccents(value.trim().toLowerCase()).replace(/\s+/g, '');
  const at = email.lastIndexOf('@');
  if (at < 0) return email;
  const user = email.slice(0, at).split('+')[0]!.replace(/\./g, '');
  return `${user}${email.slice(at)}`;
}

export function normalizePhone(value: string): string {
  return value.replace(/\D+/g, '').replace(/^0+/, '');
}

/** USPS street suffixes and directionals, the usual unit designators, and `#` -> number. */
const ADDRESS_WORDS: Record<string, string> = {
  street: 'st', str: 'st', avenue: 'ave', av: 'ave', aven: 'ave', avn: 'ave', boulevard: 'blvd',
  boul: 'blvd', road: 'rd', drive: 'dr', drv: 'dr', lane: 'ln', court: 'ct', place: 'pl',
  plaza: 'plz', square: 'sq', circle: 'cir', terrace: 'ter', highway: 'hwy', freeway: 'fwy',
  expressway: 'expy', parkway: 'pkwy', trail: 'trl', way: 'wy', alley: 'aly', center: 'ctr',
  centre: 'ctr', crescent: 'cres', heights: 'hts', mount: 'mt', mountain: 'mtn', point: 'pt',
  route: 'rte', turnpike: 'tpke', north: 'n', south: 's', east: 'e', west: 'w', northeast: 'ne',
  northwest: 'nw', southeast: 'se', southwest: 'sw', apartment: 'apt', suite: 'ste', building: 'bldg',
  floor: 'fl', room: 'rm', number: 'no', num: 'no', first: '1st', second: '2nd',
  third: '3rd', fourth: '4th', fifth: '5th',
};

export function normalizeAddress(value: string): string {
  const words = stripAccents(value.trim().toLowerCase())
    .replace(/#/g, ' number ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return words.map((w) => ADDRESS_WORDS[w] ?? w).join('');
}

/** City, state, country: no word maps, but case, accents and punctuation go. */
function normalizeAddressPart(value: string): string {
  return stripAccents(value.trim().toLowerCase()).replace(/[^\p{L}\p{N}]+/gu, '');
}

function normalizePostalCode(value: string): string {
  // US ZIP+4 keeps only the 5-digit ZIP, as the AWS normalization library does.
  const v = value.trim().toLowerCase();
  const zip = /^(\d{5})-\d{4}$/.exec(v);
  return (zip ? zip[1]! : v).replace(/[^\p{L}\p{N}]+/gu, '');
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function isoDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1000 || year > 9999) return undefined;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** A full month name or an abbreviation of at least three letters ("Sep", "Sept"). */
function monthNumber(word: string): number | undefined {
  const w = word.toLowerCase();
  if (w.length < 3) return undefined;
  const index = MONTH_NAMES.findIndex((name) => name.startsWith(w));
  return index < 0 ? undefined : index + 1;
}

/** Returns `YYYY-MM-DD`, or the trimmed, lower-cased input when no known format fits. */
export function normalizeDate(value: string): string {
  const v = value.trim();
  let m: RegExpExecArray | null;
  let out: string | undefined;
  if ((m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$/.exec(v))) {
    out = isoDate(+m[1]!, +m[2]!, +m[3]!);
  } else if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(v))) {
    out = isoDate(+m[1]!, +m[2]!, +m[3]!);
  } else if ((m = /^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$/.exec(v))) {
    const a = +m[1]!;
    const b = +m[3]!;
    const year = +m[4]!;
    // Dots are the European convention (day first); slashes and dashes read US first unless
    // the first number cannot be a month.
    const dayFirst = m[2] === '.' || a > 12;
    out = dayFirst ? isoDate(year, b, a) : isoDate(year, a, b);
  } else if ((m = /^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/i.exec(v))) {
    const month = monthNumber(m[1]!);
    if (month) out = isoDate(+m[3]!, month, +m[2]!);
  } else if ((m = /^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})$/i.exec(v))) {
    const month = monthNumber(m[2]!);
    if (month) out = isoDate(+m[3]!, month, +m[1]!);
  }
  return out ?? v.toLowerCase();
}

/** Normalizes one value of an attribute of `type` (see the module comment for the rules). */
export function normalizeValue(type: SchemaAttributeType, value: string): string {
  switch (type) {
    case 'NAME':
    case 'NAME_FIRST':
    case 'NAME_MIDDLE':
    case 'NAME_LAST':
      return normalizeName(value);
    case 'EMAIL_ADDRESS':
      return normalizeEmail(value);
    case 'PHONE':
    case 'PHONE_NUMBER':
    case 'PHONE_COUNTRYCODE':
      return normalizePhone(value);
    case 'ADDRESS':
    case 'ADDRESS_STREET1':
    case 'ADDRESS_STREET2':
    case 'ADDRESS_STREET3':
      return normalizeAddress(value);
    case 'ADDRESS_CITY':
    case 'ADDRESS_STATE':
    case 'ADDRESS_COUNTRY':
      return normalizeAddressPart(value);
    case 'ADDRESS_POSTALCODE':
      return normalizePostalCode(value);
    case 'DATE':
      return normalizeDate(value);
    case 'STRING':
    case 'PROVIDER_ID':
    case 'UNIQUE_ID':
      return value.trim();
  }
}
