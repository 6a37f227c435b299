/**
 * The logger's safety net: document text and identity values passed by mistake never reach a log
 * line, while ids and counts (including `with_<column>` counts) do.
 */
import { jest } from '@jest/globals';
import { logger, REDACTED, redactPhi } from '../../lambdas/shared/logger.js';

test('text-bearing and identity keys are redacted, at any depth; ids and counts are kept', () => {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    logger.info('object logged by mistake', {
      batchId: '20260101T000000000Z-abc',
      response: { Body: 'Patient: Linda Chen', Entities: [{ Text: 'levothyroxine', Category: 'MEDICATION' }] },
      record: { record_id: 'r1', full_name: 'Linda Chen', date_of_birth: '1966-04-18', phone: '6175550175', mrn: '908172' },
      with_full_name: 3,
    });
  } finally {
    write.mockRestore();
  }
  const line = lines.join('');
  expect(line).not.toMatch(/Linda|levothyroxine|1966|6175550175|908172/);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(parsed).toMatchObject({
    message: 'object logged by mistake',
    batchId: '20260101T000000000Z-abc',
    response: { Body: REDACTED, Entities: [{ Text: REDACTED, Category: 'MEDICATION' }] },
    record: { record_id: 'r1', full_name: REDACTED, date_of_birth: REDACTED, phone: REDACTED, mrn: REDACTED },
    with_full_name: 3,
  });
});

test('absent values stay absent', () => {
  expect(redactPhi('text', undefined)).toBeUndefined();
  expect(redactPhi('documentId', 'abc')).toBe('abc');
});
