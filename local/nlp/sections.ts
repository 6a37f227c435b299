// Section headers of clinical notes (HPI:, PMH:, Meds:, A/P: ...). The section a mention falls in
// sets default traits: past history in PMH/PSH, family in FH, future in the plan.

export type SectionKind =
  | 'CC' | 'HPI' | 'PMH' | 'PSH' | 'FH' | 'SH' | 'MEDS' | 'ALLERGIES' | 'ROS' | 'EXAM' | 'VITALS' | 'LABS' | 'IMAGING'
  | 'ASSESSMENT' | 'PLAN' | 'OTHER';

export interface Section {
  readonly kind: SectionKind;
  /** Header span (excluded from entity detection). */
  readonly headerStart: number;
  readonly headerEnd: number;
  /** End of the section: the next header, or a blank line after the section's first content. */
  readonly end: number;
}

const HEADERS: readonly (readonly [SectionKind, string])[] = [
  ['CC', 'CC|Chief Complaint|Reason for Visit|Reason for Consult(?:ation)?|Presenting Complaint'],
  ['HPI', 'HPI|History of Present(?:ing)? Illness|Interval History|Subjective|S'],
  ['PMH', 'PMH|PMHx|Past Medical History|Medical History|Past History|Other hx|Other History|Oncologic History|OB hx|OB History'],
  ['PSH', 'PSH|PSHx|Past Surgical History|Surgical History|Surgeries|Procedures'],
  ['FH', 'FH|FHx|Family History|Family Hx|Fam Hx'],
  ['SH', 'SH|SHx|Social History|Social Hx|Habits'],
  ['MEDS', 'Meds|Medications|Current Medications|Home Medications|Home Meds|Outpatient Medications|Discharge Medications|Medications on Admission|Rx'],
  ['ALLERGIES', 'Allergies|Allergy|Drug Allergies|ALL'],
  ['ROS', 'ROS|Review of Systems'],
  ['EXAM', 'PE|Physical Exam(?:ination)?|Exam|Examination|O|Objective|HEENT|Lungs|Heart|Cardiac|CV|Resp|Abd|Abdomen|Ext|Extremities|Skin|Neuro|Psych|MSK|GU|General|Gen'],
  ['VITALS', 'Vitals|Vital Signs|VS'],
  ['LABS', 'Labs|Laboratory|Lab Results|Laboratory Data|Results|Data'],
  ['IMAGING', 'Imaging|Radiology|Studies'],
  ['ASSESSMENT', 'Problem List|Active Problems|Problems|Assessment|Impression|Diagnosis|Diagnoses|Dx|A|Clinical Impression|Discharge Diagnosis|Admission Diagnosis|Hospital Course|Course'],
  ['PLAN', 'Plan|P|A/P|A&P|Assessment and Plan|Assessment/Plan|Recommendations|Recs|Disposition|Dispo|Follow-up|Follow up|Instructions|Discharge Instructions|Orders'],
];

const KIND_BY_NAME = new Map<string, SectionKind>();
for (const [kind, names] of HEADERS) for (const n of names.split('|')) KIND_BY_NAME.set(n.toLowerCase(), kind);

// A header is a known name at the start of a line (or after a sentence end) followed by a colon.
const HEADER_RE = new RegExp(
  `(?:^|(?<=\\n)|(?<=[.;]\\s{1,3}))[ \\t]*(${HEADERS.map(([, n]) => n).join('|')})[ \\t]*:`,
  'gid',
);

export function findSections(text: string): Section[] {
  const sections: Section[] = [];
  for (const m of text.matchAll(HEADER_RE)) {
    const name = m[1];
    const range = m.indices?.[1];
    if (name === undefined || range === undefined) continue;
    // Single-letter SOAP headers (S:, O:, A:, P:) count only at the start of a line.
    if (name.length === 1 && !(m.index === 0 || text[m.index - 1] === '\n' || /\n[ \t]*$/.test(text.slice(0, range[0])))) continue;
    const kind = KIND_BY_NAME.get(name.toLowerCase().replace(/\s+/g, ' ')) ?? 'OTHER';
    const headerEnd = m.index + m[0].length;
    const content = /\S/.exec(text.slice(headerEnd));
    const contentStart = content === null ? text.length : headerEnd + content.index;
    const blank = /\n[ \t]*\n/.exec(text.slice(contentStart));
    sections.push({ kind, headerStart: range[0], headerEnd, end: blank === null ? text.length : contentStart + blank.index });
  }
  return sections.map((s, i) => ({ ...s, end: Math.min(s.end, sections[i + 1]?.headerStart ?? text.length) }));
}

/** The section at an offset: that of the last header before it, unless that section has ended. */
export function sectionAt(sections: readonly Section[], offset: number): SectionKind | undefined {
  let kind: SectionKind | undefined;
  for (const s of sections) {
    if (s.headerStart > offset) break;
    kind = offset < s.end ? s.kind : undefined;
  }
  return kind;
}
