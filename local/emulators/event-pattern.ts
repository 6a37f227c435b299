/**
 * EventBridge event-pattern matching, as the local bus applies rules from the synthesized
 * template. No maintained JavaScript port of AWS Event Ruler exists in the project's
 * dependencies, so the documented semantics are implemented here:
 *
 * - every field of the pattern must match (AND); the values listed for a field are alternatives
 *   (OR); `$or: [{...}, {...}]` at any object level;
 * - a leaf matches when any of the event's values (an array is flattened) matches any listed
 *   value: exact (string, number, boolean, null; type-sensitive), `prefix`, `suffix` (both also
 *   with `equals-ignore-case`), `equals-ignore-case`, `wildcard`, `anything-but` (values, prefix,
 *   suffix, equals-ignore-case, wildcard), `numeric` ranges, `exists`, `cidr` (IPv4);
 * - a nested pattern object descends into the event; an array of objects matches when one
 *   element matches the whole sub-pattern (Ruler's array-consistent matching);
 * - `exists` looks at leaf values only: an object or an empty array counts as absent.
 *
 * Invalid patterns throw `EventPatternError` with a message naming the path and the problem.
 */

export class EventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Throws `EventPatternError` unless `pattern` is a valid event pattern. */
export function validateEventPattern(pattern: unknown): void {
  if (!isObject(pattern)) throw new EventPatternError('Event pattern must be a JSON object');
  if (Object.keys(pattern).length === 0) throw new EventPatternError('Event pattern must not be empty');
  validateObject(pattern, '');
}

/** True when `event` matches `pattern`; throws `EventPatternError` when the pattern is invalid. */
export function matchesEventPattern(pattern: object, event: object): boolean {
  validateEventPattern(pattern);
  return matchObject(pattern as JsonObject, event as Json);
}

// --- validation ---

function validateObject(pattern: JsonObject, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or' && isOrClause(value)) {
      if (value.length < 2) throw new EventPatternError(`${here}: "$or" needs at least two alternatives`);
      value.forEach((alternative, i) => {
        if (Object.keys(alternative).length === 0) throw new EventPatternError(`${here}[${i}]: empty alternative`);
        validateObject(alternative, `${here}[${i}]`);
      });
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new EventPatternError(`${here}: a value list must not be empty`);
      value.forEach((matcher) => validateMatcher(matcher, here));
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw new EventPatternError(`${here}: a nested pattern must not be empty`);
      validateObject(value, here);
    } else {
      throw new EventPatternError(`${here}: match values must be in a JSON array or an object`);
    }
  }
}

const isOrClause = (value: Json | undefined): value is JsonObject[] => Array.isArray(value) && value.length > 0 && value.every(isObject);

function validateMatcher(matcher: Json, path: string): void {
  if (!isObject(matcher)) {
    if (Array.isArray(matcher)) throw new EventPatternError(`${path}: nested arrays are not allowed in a value list`);
    return; // exact value
  }
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new EventPatternError(`${path}: a matcher object must have exactly one operator, got ${keys.length}`);
  const operator = keys[0] as string;
  const operand = matcher[operator] as Json;
  const fail = (why: string): never => {
    throw new EventPatternError(`${path}: "${operator}" ${why}`);
  };
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return;
      if (isObject(operand) && Object.keys(operand).length === 1 && typeof operand['equals-ignore-case'] === 'string') return;
      return fail('expects a string or { "equals-ignore-case": string }');
    case 'equals-ignore-case':
      if (typeof operand !== 'string') fail('expects a string');
      return;
    case 'wildcard':
      if (typeof operand !== 'string') fail('expects a string');
      compileWildcard(operand as string, path);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') fail('expects true or false');
      return;
    case 'cidr':
      if (typeof operand !== 'string' || !parseCidr(operand)) fail('expects an IPv4 CIDR block such as "10.0.0.0/24"');
      return;
    case 'numeric':
      parseNumeric(operand, path);
      return;
    case 'anything-but':
      validateAnythingBut(operand, path);
      return;
    default:
      fail('is not a supported operator');
  }
}

function validateAnythingBut(operand: Json, path: string): void {
  const fail = (): never => {
    throw new EventPatternError(
      `${path}: "anything-but" expects a string, a number, a list of only strings or only numbers, or { prefix | suffix | equals-ignore-case | wildcard }`,
    );
  };
  if (typeof operand === 'string' || typeof operand === 'number') return;
  if (Array.isArray(operand)) {
    if (operand.length === 0) fail();
    if (!(operand.every((v) => typeof v === 'string') || operand.every((v) => typeof v === 'number'))) fail();
    return;
  }
  if (!isObject(operand) || Object.keys(operand).length !== 1) return fail();
  const [[inner, value]] = Object.entries(operand) as [[string, Json]];
  switch (inner) {
    case 'prefix':
    case 'suffix':
      if (typeof value !== 'string') fail();
      return;
    case 'equals-ignore-case':
    case 'wildcard': {
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || !values.every((v) => typeof v === 'string')) fail();
      if (inner === 'wildcard') values.forEach((v) => compileWildcard(v as string, path));
      return;
    }
    default:
      fail();
  }
}

// --- matching ---

function matchObject(pattern: JsonObject, value: Json | undefined): boolean {
  // An array of objects matches when one element matches the whole sub-pattern.
  const candidates = objectsIn(value);
  return candidates.some((candidate) =>
    Object.entries(pattern).every(([key, sub]) => {
      if (key === '$or' && isOrClause(sub)) return sub.some((alternative) => matchObject(alternative, candidate));
      const field = candidate && Object.hasOwn(candidate, key) ? candidate[key] : undefined;
      if (Array.isArray(sub)) return matchLeaf(sub, field);
      return matchObject(sub as JsonObject, field);
    }),
  );
}

/** The objects a nested pattern is applied to; `[undefined]` when there are none (fields absent). */
function objectsIn(value: Json | undefined): Array<JsonObject | undefined> {
  const found: JsonObject[] = [];
  const walk = (v: Json | undefined) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) found.push(v);
  };
  walk(value);
  return found.length > 0 ? found : [undefined];
}

/** Leaf values of a field: arrays flattened, objects dropped (they are not leaves). */
function leafValues(value: Json | undefined): Array<Exclude<Json, Json[] | JsonObject>> {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (isObject(value)) return [];
  return [value];
}

function matchLeaf(matchers: Json[], field: Json | undefined): boolean {
  const values = leafValues(field);
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) return matcher.exists === values.length > 0;
    return values.some((value) => matchValue(matcher, value));
  });
}

function matchValue(matcher: Json, value: Exclude<Json, Json[] | JsonObject>): boolean {
  if (!isObject(matcher)) return matcher === value;
  const [[operator, operand]] = Object.entries(matcher) as [[string, Json]];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && affix(operand, value, (v, p) => v.startsWith(p));
    case 'suffix':
      return typeof value === 'string' && affix(operand, value, (v, s) => v.endsWith(s));
    case 'equals-ignore-case':
      return typeof value === 'string' && foldCase(value) === foldCase(operand as string);
    case 'wildcard':
      return typeof value === 'string' && compileWildcard(operand as string, '').test(value);
    case 'numeric':
      return typeof value === 'number' && parseNumeric(operand, '').every(({ op, bound }) => compare(value, op, bound));
    case 'cidr':
      return typeof value === 'string' && inCidr(value, operand as string);
    case 'anything-but':
      return !excludedBy(operand, value);
    default:
      return false;
  }
}

function affix(operand: Json, value: string, test: (value: string, part: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  const part = (operand as JsonObject)['equals-ignore-case'] as string;
  return test(foldCase(value), foldCase(part));
}

/** True when `anything-but` excludes `value`. */
function excludedBy(operand: Json, value: Exclude<Json, Json[] | JsonObject>): boolean {
  if (typeof operand === 'string' || typeof operand === 'number') return value === operand;
  if (Array.isArray(operand)) return operand.includes(value);
  const [[inner, innerValue]] = Object.entries(operand as JsonObject) as [[string, Json]];
  // The string forms only say something about strings: any other value is "anything but".
  if (typeof value !== 'string') return false;
  const list = (Array.isArray(innerValue) ? innerValue : [innerValue]) as string[];
  switch (inner) {
    case 'prefix':
      return value.startsWith(innerValue as string);
    case 'suffix':
      return value.endsWith(innerValue as string);
    case 'equals-ignore-case':
      return list.some((v) => foldCase(v) === foldCase(value));
    case 'wildcard':
      return list.some((v) => compileWildcard(v, '').test(value));
    default:
      return false;
  }
}

const foldCase = (s: string) => s.toLowerCase();

// --- wildcard ---

const wildcardCache = new Map<string, RegExp>();

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function compileWildcard(pattern: string, path: string): RegExp {
  const cached = wildcardCache.get(pattern);
  if (cached) return cached;
  let source = '';
  let previousWasStar = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new EventPatternError(`${path}: "wildcard" may only escape "*" or "\\"`);
      source += `\\${next}`;
      i += 1;
      previousWasStar = false;
    } else if (c === '*') {
      if (previousWasStar) throw new EventPatternError(`${path}: "wildcard" must not contain consecutive "*"`);
      source += '.*';
      previousWasStar = true;
    } else {
      // Only syntax characters: the 'u' flag refuses needless escapes such as "\-".
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      previousWasStar = false;
    }
  }
  const regex = new RegExp(`^${source}$`, 'su');
  wildcardCache.set(pattern, regex);
  return regex;
}

// --- numeric ---

type NumericOp = '<' | '<=' | '>' | '>=' | '=';
interface Bound {
  op: NumericOp;
  bound: number;
}

function parseNumeric(operand: Json, path: string): Bound[] {
  const fail = (why: string): never => {
    throw new EventPatternError(`${path}: "numeric" ${why}`);
  };
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    return fail('expects [op, number] or [lower-op, number, upper-op, number]');
  }
  const bounds: Bound[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof op !== 'string' || !['<', '<=', '>', '>=', '='].includes(op)) fail(`has an unknown operator ${JSON.stringify(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) fail(`expects a number after ${JSON.stringify(op)}`);
    bounds.push({ op: op as NumericOp, bound: bound as number });
  }
  if (bounds.length === 2) {
    const [lower, upper] = bounds as [Bound, Bound];
    if (!['>', '>='].includes(lower.op) || !['<', '<='].includes(upper.op)) fail('range must be [">" or ">=", low, "<" or "<=", high]');
    if (lower.bound > upper.bound) fail('range is empty (low > high)');
  }
  return bounds;
}

function compare(value: number, op: NumericOp, bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '=':
      return value === bound;
  }
}

// --- cidr (IPv4) ---

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

function parseCidr(cidr: string): { network: number; mask: number } | undefined {
  const [address, bits, extra] = cidr.split('/');
  if (extra !== undefined || address === undefined || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const ip = parseIpv4(address);
  if (ip === undefined) return undefined;
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return { network: (ip & mask) >>> 0, mask };
}

function inCidr(value: string, cidr: string): boolean {
  const block = parseCidr(cidr);
  const ip = parseIpv4(value);
  return block !== undefined && ip !== undefined && ((ip & block.mask) >>> 0) === block.network;
}
