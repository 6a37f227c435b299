/**
 * Generic input validation driven by the Smithy model: required members, lengths (in Unicode
 * code points, as Smithy counts them), patterns, enum values and ranges, reported in the words
 * AWS services use ("1 validation error detected: Value '' at 'jobName' failed to satisfy
 * constraint: Member must have length greater than or equal to 1"). A value of the wrong JSON
 * type is a protocol error (SerializationException), as on AWS.
 */
import { ServiceError } from './errors.js';
import type { MemberRef, Model, ShapeTraits } from './model.js';

export type ViolationKind = 'required' | 'length' | 'pattern' | 'enum' | 'range';

export interface Violation {
  /** Member names from the input's root, as in the model (PascalCase). */
  path: string[];
  kind: ViolationKind;
  /** For length and range: which bound was crossed. */
  bound?: 'min' | 'max';
  message: string;
}

const regexCache = new Map<string, RegExp>();
function compile(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    // Smithy patterns are ECMA-262 and not implicitly anchored; \p{..} needs the `u` flag.
    re = new RegExp(pattern, 'u');
    regexCache.set(pattern, re);
  }
  return re;
}

/** AWS error messages name members in lower camel case, joined with dots. */
const wirePath = (path: string[]) => path.map((p) => (/^\d+$/.test(p) ? p : p.charAt(0).toLowerCase() + p.slice(1))).join('.');

/** Smithy counts string length in Unicode code points, not UTF-16 units. */
const codePoints = (s: string) => Array.from(s).length;

export class InputValidator {
  constructor(private readonly model: Model) {}

  /** Returns every constraint violation; throws SerializationException on a type mismatch. */
  validate(shapeId: string, value: unknown): Violation[] {
    const violations: Violation[] = [];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ServiceError('SerializationException', 'Start of structure or map found where not expected.');
    }
    this.visit({ target: shapeId }, value, [], violations, false);
    return violations;
  }

  private visit(ref: MemberRef, value: unknown, path: string[], out: Violation[], redact: boolean): void {
    const shape = this.model.shape(ref.target);
    // Constraint traits may sit on the member or on its target shape; the member's win.
    const traits: ShapeTraits = { ...shape.traits, ...ref.traits };
    const sensitive = redact || traits['smithy.api#sensitive'] !== undefined;
    const fail = (kind: ViolationKind, constraint: string, bound?: Violation['bound']) =>
      out.push({ path, kind, bound, message: `Value ${display(value, sensitive)} at '${wirePath(path)}' failed to satisfy constraint: ${constraint}` });

    switch (shape.type) {
      case 'structure': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw typeMismatch(path, 'a structure');
        const record = value as Record<string, unknown>;
        for (const [name, member] of Object.entries(shape.members ?? {})) {
          const v = record[name];
          const memberPath = [...path, name];
          if (v === undefined || v === null) {
            if (member.traits?.['smithy.api#required'] !== undefined) {
              out.push({
                path: memberPath,
                kind: 'required',
                message: `Value null at '${wirePath(memberPath)}' failed to satisfy constraint: Member must not be null`,
              });
            }
            continue;
          }
          // Document text never appears in an error message (it is PHI).
          this.visit(member, v, memberPath, out, sensitive || name === 'Text');
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(value)) throw typeMismatch(path, 'a list');
        checkLength(value.length, traits, fail);
        value.forEach((item, i) => {
          if (item === null || item === undefined) return;
          if (shape.member) this.visit(shape.member, item, [...path, String(i), 'member'], out, sensitive);
        });
        return;
      }
      case 'string': {
        if (typeof value !== 'string') throw typeMismatch(path, 'a string');
        checkLength(codePoints(value), traits, fail);
        const pattern = traits['smithy.api#pattern'];
        if (pattern !== undefined && !compile(pattern).test(value)) {
          fail('pattern', `Member must satisfy regular expression pattern: ${pattern}`);
        }
        return;
      }
      case 'enum': {
        if (typeof value !== 'string') throw typeMismatch(path, 'a string');
        const allowed = Object.entries(shape.members ?? {}).map(([name, m]) => m.traits?.['smithy.api#enumValue'] ?? name);
        if (!allowed.includes(value)) fail('enum', `Member must satisfy enum value set: [${allowed.join(', ')}]`);
        return;
      }
      case 'integer':
      case 'long':
      case 'short':
      case 'byte': {
        if (typeof value !== 'number' || !Number.isInteger(value)) throw typeMismatch(path, 'an integer');
        checkRange(value, traits, fail);
        return;
      }
      case 'float':
      case 'double': {
        if (typeof value !== 'number') throw typeMismatch(path, 'a number');
        checkRange(value, traits, fail);
        return;
      }
      case 'boolean': {
        if (typeof value !== 'boolean') throw typeMismatch(path, 'a boolean');
        return;
      }
      case 'timestamp': {
        // awsJson1_1 sends timestamps as epoch seconds (JSON numbers).
        if (typeof value !== 'number' || !Number.isFinite(value)) throw typeMismatch(path, 'a timestamp in epoch seconds (a number)');
        return;
      }
      default:
        throw new Error(`validator: shape type ${shape.type} is not supported`);
    }
  }
}

type Fail = (kind: ViolationKind, constraint: string, bound?: Violation['bound']) => void;

function checkLength(length: number, traits: ShapeTraits, fail: Fail): void {
  const rule = traits['smithy.api#length'];
  if (!rule) return;
  if (rule.min !== undefined && length < rule.min) fail('length', `Member must have length greater than or equal to ${rule.min}`, 'min');
  if (rule.max !== undefined && length > rule.max) fail('length', `Member must have length less than or equal to ${rule.max}`, 'max');
}

function checkRange(value: number, traits: ShapeTraits, fail: Fail): void {
  const rule = traits['smithy.api#range'];
  if (!rule) return;
  if (rule.min !== undefined && value < rule.min) fail('range', `Member must have value greater than or equal to ${rule.min}`, 'min');
  if (rule.max !== undefined && value > rule.max) fail('range', `Member must have value less than or equal to ${rule.max}`, 'max');
}

function display(value: unknown, sensitive: boolean): string {
  if (sensitive) return "'***'";
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  // Keep messages bounded however long the offending value is.
  return `'${s.length > 256 ? `${s.slice(0, 256)}...` : s}'`;
}

function typeMismatch(path: string[], expected: string): ServiceError {
  return new ServiceError('SerializationException', `Expected ${expected} at '${wirePath(path)}'.`);
}

/** The message AWS services give for a set of violations. */
export function validationMessage(violations: Violation[]): string {
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.map((v) => v.message).join('; ')}`;
}
