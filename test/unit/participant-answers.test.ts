import { classifyAnswer, type AnswerKind, type CallPhase } from '@dtx/protocol';
import { describe, expect, test } from 'vitest';

// PROTOCOL.md "How the caller reads the answer"
const table: [CallPhase, number | null, AnswerKind][] = [
  ['try', 200, 'ok'],
  ['try', 201, 'ok'],
  ['try', 204, 'ok'],
  ['try', 409, 'rejected'],
  ['try', 422, 'rejected'],
  ['try', 400, 'rejected'],
  ['try', 404, 'rejected'],
  ['try', 401, 'rejected'],
  ['try', 408, 'retry'],
  ['try', 429, 'retry'],
  ['try', 500, 'retry'],
  ['try', 503, 'retry'],
  ['try', null, 'retry'],
  ['try', 302, 'rejected'],
  ['confirm', 200, 'ok'],
  ['confirm', 409, 'retry'],
  ['confirm', 422, 'retry'],
  ['confirm', 404, 'retry'],
  ['confirm', 503, 'retry'],
  ['confirm', null, 'retry'],
  ['cancel', 204, 'ok'],
  ['cancel', 409, 'retry'],
  ['cancel', 400, 'retry'],
  ['cancel', 429, 'retry'],
  ['cancel', null, 'retry'],
  // a message's check-back (v1.2): exactly 200 committed, 409 never will, anything else asked again
  ['check', 200, 'ok'],
  ['check', 409, 'rejected'],
  ['check', 204, 'retry'],
  ['check', 422, 'retry'],
  ['check', 404, 'retry'],
  ['check', 500, 'retry'],
  ['check', null, 'retry'],
];

describe('classifying a participant answer', () => {
  test.each(table)('%s answered %s → %s', (phase, status, kind) => {
    expect(classifyAnswer(phase, status)).toBe(kind);
  });
});
