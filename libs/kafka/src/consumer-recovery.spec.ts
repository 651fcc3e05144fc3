import { describe, expect, it } from 'vitest';
import { asRejoin } from './consumer-recovery.js';

function refusal(type: string): Error {
  return Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: false });
}

describe('asRejoin', () => {
  it('unwraps a membership refusal from the retry wrappers, so the runner rejoins', () => {
    const cause = refusal('UNKNOWN_MEMBER_ID');
    const wrapped = new Error('The coordinator is not aware of this member', {
      cause: new Error('retry', { cause }),
    });
    expect(asRejoin(wrapped)).toBe(cause);
    for (const type of ['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP'])
      expect(asRejoin(new Error('x', { cause: refusal(type) }))).toMatchObject({ type });
  });

  it('leaves every other error as it is', () => {
    const other = new Error('disk full', { cause: refusal('TOPIC_AUTHORIZATION_FAILED') });
    expect(asRejoin(other)).toBe(other);
    expect(asRejoin('not an error')).toBe('not an error');
  });
});
