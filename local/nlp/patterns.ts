// Numeric and sig patterns used next to an entity (sticky: tried at one offset at a time, never
// scanned over the whole note per term).

const NUM_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|half|a half|one-half|one and a half';
/** A quantity: 2, 0.5, .5, 1-2, 1 to 2, 1/2, 1 and 1 / 2, 1 1/2, or a number word. */
export const NUM = `(?:\\d+\\s+(?:and\\s+)?\\d\\s*\\/\\s*\\d|\\d+(?:,\\d{3})*(?:\\.\\d+)?(?:\\s*(?:-|to)\\s*\\d+(?:\\.\\d+)?)?|\\.\\d+|(?:${NUM_WORDS})(?:\\s*(?:-|to)\\s*(?:${NUM_WORDS}))?)`;

const DOSE_UNIT =
  'mg|mgs|milligrams?|mcg|mcgs|micrograms?|µg|ug|g|gm|gms|grams?|kg|mL|ml|mls|milliliters?|cc|L|liters?|units?|U|IU|iu|mEq|meq|mmol|%|puffs?|drops?|gtts?|sprays?|inhalations?|applications?|oz|teaspoons?|tsp|tablespoons?|tbsp|million units|nebs?|ampules?|amps?';
const FORM_COUNT =
  'tabs?|tablets?|caps?|capsules?|pills?|patch(?:es)?|suppositor(?:y|ies)|lozenges?|troches?|vials?|packets?|sachets?|softgels?|gelcaps?|caplets?|films?|wafers?|pens?|syringes?|chewables?|injections?';

const sticky = (src: string, flags = ''): RegExp => new RegExp(src, `y${flags}`);

/** Infusion rate: 5 mL/hr, 2 mcg/kg/min, 100 cc per hour. Group 1 is the rate without "at". */
export const RATE_RE = sticky(
  `(?:at\\s+)?(${NUM}\\s*(?:mL|ml|cc|mg|mcg|units?|u|U|g|gtts?|L|liters?|drops?)\\s*(?:\\/\\s*kg\\s*)?(?:\\/|per)\\s*(?:hr|hour|h|min|minute)s?)(?![A-Za-z])`,
);
/** A count of a dosage form: 2 tablets, 1 and 1 / 2 tabs. Group 1 quantity, group 2 form. */
export const QTY_FORM_RE = sticky(`(${NUM})\\s*(${FORM_COUNT})(?![A-Za-z])`, 'i');
/** A quantity with a unit: 20 mg, 0.5 mL, 10 units, 2 puffs, 2.5 mg/3 mL, 0.1 %. */
export const QTY_UNIT_RE = sticky(
  `${NUM}\\s*(?:${DOSE_UNIT})(?:\\s*(?:\\/|per)\\s*(?:\\d+(?:\\.\\d+)?\\s*)?(?:mL|ml|L|kg|dose|actuation|spray|puff|tab|tablet|cap|capsule))?(?![A-Za-z])`,
);
export const CONCENTRATION_RE = /\/\s*(?:\d+(?:\.\d+)?\s*)?(?:mL|ml|L|dose|actuation|spray|puff|tab|tablet|cap|capsule)$|%$/;
export const MASS_RE = /(?:mg|mgs|milligrams?|mcg|mcgs|micrograms?|µg|ug|g|gm|gms|grams?|mEq|meq|mmol|%)(?:\s*\/.*)?$/;
/** Duration: for 2 times, x 7 days, for one week, times 3 doses, for the past 2 months. Group 1 excludes the preposition. */
export const DURATION_RE = sticky(
  `(?:for|x|×|times|over)\\s*(?:a\\s+total\\s+of\\s+|the\\s+next\\s+|another\\s+|an\\s+additional\\s+)?((?:the\\s+(?:past|last)\\s+(?:(?:${NUM}|a|an)\\s*)?|(?:${NUM}|a|an)\\s*)(?:more\\s+)?(?:-\\s*)?(?:days?|d|weeks?|wks?|months?|mos?|years?|yrs?|hours?|hrs?|doses?|times|cycles?|nights?))(?![A-Za-z])`,
  'i',
);
/** Frequencies not in the modifier lexicon: q4h, q 6-8 hours, every 4 hours, 3 times a day, 2x/day. */
export const FREQ_RE = sticky(
  `(?:q\\.?\\s?\\d+(?:\\s*-\\s*\\d+)?\\s?(?:h|hr|hrs|hours?|min|mins|minutes?|d|days?|wk|wks|weeks?|mo|months?)|every\\s+(?:\\d+(?:\\s*(?:-|to)\\s*\\d+)?\\s+|other\\s+)?(?:hours?|days?|weeks?|months?|morning|evening|night|bedtime|minutes?|meal)|(?:once|twice|thrice|\\d+|one|two|three|four|five|six)\\s*(?:times|x)?\\s*(?:a|per|\\/|each|every)\\s*(?:day|d|week|wk|month|hour|hr|night)|\\d\\s*x\\s*(?:daily|weekly|a day|per day))(?![A-Za-z])`,
  'i',
);

const TEST_UNIT =
  '%|mg\\/dL|mg\\/dl|mmol\\/L|mmol\\/l|mEq\\/L|meq\\/l|g\\/dL|g\\/dl|g\\/L|mmHg|mm Hg|mm\\/Hg|bpm|beats per minute|beats\\/min|breaths\\/min|breaths per minute|\\/min|°F|°C|degrees F|degrees|F|C|kg|kgs|lbs?|pounds|cm|mm|inches|ng\\/mL|ng\\/ml|ng\\/dL|pg\\/mL|pg\\/ml|U\\/L|IU\\/L|u\\/L|units\\/L|mIU\\/L|uIU\\/mL|mIU\\/mL|K\\/uL|K\\/µL|x\\s?10\\^?\\d+\\/L|cells\\/mm3|\\/mm3|\\/uL|\\/µL|mcg\\/dL|µg\\/dL|ug\\/dL|mcg\\/L|µg\\/L|nmol\\/L|µmol\\/L|umol\\/L|mL\\/min(?:\\/1\\.73\\s?m2)?|sec|seconds|L\\/min|L|mL|ml|kg\\/m2|kg\\/m\\^2|mg\\/L|mg\\/24\\s?h|g\\/24\\s?h|ratio|mOsm\\/kg|fL|pg|percent';
const TEST_VALUE_WORDS =
  'no growth to date|no growth|normal|abnormal|negative|positive|elevated|low|high|unremarkable|WNL|within normal limits|clear|stable|borderline|reactive|nonreactive|non-reactive|not detected|detected|trace|undetectable|normal sinus rhythm|sinus rhythm|NSR|regular|irregular';
/**
 * A test result right after a test name: optional connector, the value, an optional unit.
 * Groups: 1 value, 2 unit.
 */
export const TEST_VALUE_RE = sticky(
  `(?:\\s*(?:[:=]|\\bof\\b|\\bwas\\b|\\bis\\b|\\bwere\\b|\\bat\\b|\\blevels?\\b|\\bresults?\\b|\\bvalue\\b|\\breading\\b|\\bmeasured\\b|\\bcame back\\b|\\bshowed\\b|\\brevealed\\b|\\bremains\\b|\\bnow\\b|\\btoday\\b|\\bchecked\\b|\\bup to\\b|\\bdown to\\b|\\bincreased to\\b|\\bdecreased to\\b|\\bpeaked at\\b|\\brose to\\b|\\bfell to\\b|\\bdropped to\\b|\\bimproved to\\b|\\breturned to\\b|\\btrended down to\\b|\\bnadir of\\b|\\bof about\\b|\\bapproximately\\b|\\baround\\b|\\bless than\\b|\\bgreater than\\b|\\bmore than\\b|\\bbelow\\b|\\babove\\b|\\bunder\\b))*\\s*((?:[<>≤≥~]\\s*)?\\d+(?:\\.\\d+)?(?:\\s*\\/\\s*\\d+(?:\\.\\d+)?)?(?![\\d/])|\\b(?:${TEST_VALUE_WORDS})\\b)(?:\\s*(${TEST_UNIT})(?![A-Za-z0-9]))?`,
  'd',
);

/** Behavioural amounts: 1 ppd, 20 pack-years, 2 drinks, a pint, half a pack. */
export const AMOUNT_RE = sticky(
  `(?:${NUM}|a|an|half a|one half)\\s*(?:-\\s*)?(?:ppd|packs?\\s*(?:per|a|\\/)\\s*day|pack[- ]?years?|pk[- ]?yrs?|packs?|py|cigarettes?|cigs?|cigars?|drinks?|beers?|glasses(?:\\s+of\\s+wine)?|glass(?:\\s+of\\s+wine)?|shots?|pints?|bottles?|cans?|joints?|grams?|g|oz|ounces?|units?)(?![A-Za-z])`,
  'i',
);
export const BES_FREQ_RE = sticky(
  `(?:daily|nightly|weekly|monthly|socially|occasionally|rarely|heavily|on weekends|every day|per day|a day|\\/day|per week|a week|\\/week|per month|a month|${NUM}\\s*(?:times|x)\\s*(?:a|per|\\/)\\s*(?:day|week|month))(?![A-Za-z])`,
  'i',
);

export function stickyMatch(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

