/**
 * The Comprehend Medical service model (Smithy JSON AST, copied verbatim from the public
 * aws/api-models-aws repository) and the few questions the emulator asks of it: which operations
 * exist, what their input shapes and modeled errors are, and each error's HTTP status.
 * Validation rules are read from the same shapes (see validate.ts), never hand-copied.
 */
import { readFileSync } from 'node:fs';

export const SERVICE_NAMESPACE = 'com.amazonaws.comprehendmedical';
/** The `X-Amz-Target` prefix of every operation (the service shape's name). */
export const TARGET_PREFIX = 'ComprehendMedical_20181030';

export interface ShapeTraits {
  'smithy.api#required'?: object;
  'smithy.api#length'?: { min?: number; max?: number };
  'smithy.api#range'?: { min?: number; max?: number };
  'smithy.api#pattern'?: string;
  'smithy.api#enumValue'?: string;
  'smithy.api#error'?: 'client' | 'server';
  'smithy.api#httpError'?: number;
  'smithy.api#sensitive'?: object;
  [trait: string]: unknown;
}

export interface MemberRef {
  target: string;
  traits?: ShapeTraits;
}

export interface Shape {
  type: string;
  members?: Record<string, MemberRef>;
  member?: MemberRef;
  input?: { target: string };
  output?: { target: string };
  errors?: { target: string }[];
  operations?: { target: string }[];
  traits?: ShapeTraits;
}

export interface ServiceModel {
  smithy: string;
  shapes: Record<string, Shape>;
}

const PRELUDE_TYPES: Record<string, string> = {
  'smithy.api#String': 'string',
  'smithy.api#Integer': 'integer',
  'smithy.api#Long': 'long',
  'smithy.api#Float': 'float',
  'smithy.api#Double': 'double',
  'smithy.api#Boolean': 'boolean',
  'smithy.api#Timestamp': 'timestamp',
  'smithy.api#Unit': 'structure',
};

export class Model {
  readonly shapes: Record<string, Shape>;

  constructor(model: ServiceModel) {
    this.shapes = model.shapes;
  }

  /** Shape by absolute id (`com.amazonaws.comprehendmedical#JobName`) or by local name. */
  shape(id: string): Shape {
    const absolute = id.includes('#') ? id : `${SERVICE_NAMESPACE}#${id}`;
    const found = this.shapes[absolute];
    if (found) return found;
    const prelude = PRELUDE_TYPES[absolute];
    if (prelude) return { type: prelude, members: {} };
    throw new Error(`service model: unknown shape ${absolute}`);
  }

  /** The operation names the service declares (all of them, implemented here or not). */
  operationNames(): string[] {
    const service = this.shape(TARGET_PREFIX);
    return (service.operations ?? []).map((op) => localName(op.target));
  }

  operation(name: string): Shape | undefined {
    const op = this.shapes[`${SERVICE_NAMESPACE}#${name}`];
    return op?.type === 'operation' ? op : undefined;
  }

  /** The local names of the errors an operation may answer with. */
  operationErrors(name: string): string[] {
    return (this.operation(name)?.errors ?? []).map((e) => localName(e.target));
  }

  inputShapeId(name: string): string {
    const target = this.operation(name)?.input?.target;
    if (!target) throw new Error(`service model: operation ${name} has no input`);
    return target;
  }

  /** HTTP status of a modeled error shape (its `httpError` trait). */
  errorStatus(code: string): number | undefined {
    const shape = this.shapes[`${SERVICE_NAMESPACE}#${code}`];
    return shape?.traits?.['smithy.api#error'] ? shape.traits['smithy.api#httpError'] : undefined;
  }
}

export const localName = (id: string): string => id.slice(id.indexOf('#') + 1);

let cached: Model | undefined;

/** Loads the model shipped next to this file (once per process). */
export function loadModel(): Model {
  cached ??= new Model(
    JSON.parse(readFileSync(new URL('./comprehendmedical-2018-10-30.smithy.json', import.meta.url), 'utf8')) as ServiceModel,
  );
  return cached;
}
