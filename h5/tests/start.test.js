import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api.js';
import { mayRetry, newRequestId, startGroup } from '../src/lib/start.js';

function memoryStorage() {
  const values = new Map();
  return {
    getItem: key => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, value),
    removeItem: key => values.delete(key),
    size: () => values.size,
  };
}

/** A stand-in for api() that records each call's request id and answers from `answers` in turn. */
function recorder(...answers) {
  const ids = [];
  const call = async (method, path, body, headers) => {
    expect([method, path]).toEqual(['POST', '/api/groups']);
    ids.push(headers['x-requestid']);
    const answer = answers.shift();
    if (answer instanceof Error) {
      throw answer;
    }
    return { groupId: answer, campaignId: body.campaignId };
  };
  return { call, ids };
}

describe('starting a group under a request id', () => {
  it('makes ids the gateway accepts', () => {
    const id = newRequestId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(newRequestId()).not.toBe(id);
  });

  it('sends the same id again after a lost answer, and a new one for the next group', async () => {
    const storage = memoryStorage();
    const { call, ids } = recorder(new ApiError(0, 'network'), new ApiError(503, 'unavailable'), 'g1', 'g2');

    await expect(startGroup(call, 'c1', undefined, storage)).rejects.toThrow('network');
    await expect(startGroup(call, 'c1', undefined, storage)).rejects.toThrow('unavailable');
    expect((await startGroup(call, 'c1', undefined, storage)).groupId).toBe('g1');
    expect((await startGroup(call, 'c1', undefined, storage)).groupId).toBe('g2');

    expect(ids[0]).toBe(ids[1]);
    expect(ids[1]).toBe(ids[2]);
    expect(ids[3]).not.toBe(ids[2]);
    expect(storage.size()).toBe(0);
  });

  it('forgets the id after a definite refusal', async () => {
    const storage = memoryStorage();
    const { call, ids } = recorder(new ApiError(409, 'campaign-closed'), 'g1');

    await expect(startGroup(call, 'c1', undefined, storage)).rejects.toThrow('campaign-closed');
    await startGroup(call, 'c1', undefined, storage);

    expect(ids[1]).not.toBe(ids[0]);
  });

  it('keeps one id per campaign', async () => {
    const storage = memoryStorage();
    const { call, ids } = recorder(new ApiError(0, 'network'), 'g2', 'g1');

    await expect(startGroup(call, 'c1', undefined, storage)).rejects.toThrow();
    await startGroup(call, 'c2', undefined, storage);
    await startGroup(call, 'c1', undefined, storage);

    expect(ids[1]).not.toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]);
  });

  it.each([[0, true], [500, true], [503, true], [400, false], [409, false], [429, false]])('status %i may be retried: %s', (status, retry) => {
    expect(mayRetry(new ApiError(status, 'x'))).toBe(retry);
  });
});
