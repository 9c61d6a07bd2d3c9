import { describe, expect, it } from 'vitest';
import { chinaTime, clockOffset, countdown, windowText } from '../src/lib/time.js';

describe('chinaTime', () => {
  it('shows a UTC instant in China time as 12月3日 03:08', () => {
    expect(chinaTime('2026-12-02T19:08:45Z')).toBe('12月3日 03:08');
  });

  it('does not depend on the phone time zone', () => {
    expect(chinaTime('2026-01-31T16:00:00.000Z')).toBe('2月1日 00:00');
  });
});

describe('windowText', () => {
  it.each([
    [1440, '24 小时'],
    [60, '1 小时'],
    [90, '1 小时 30 分钟'],
    [30, '30 分钟'],
  ])('%i minutes read %s', (minutes, text) => {
    expect(windowText(minutes)).toBe(text);
  });
});

describe('countdown', () => {
  const deadline = '2026-12-03T00:00:00Z';
  const at = iso => Date.parse(iso);

  it('ticks down in hours, minutes and seconds', () => {
    expect(countdown(deadline, at('2026-12-02T22:58:57Z')).text).toBe('01:01:03');
  });

  it('shows days beyond 24 hours', () => {
    expect(countdown(deadline, at('2026-12-01T21:00:00Z')).text).toBe('1天 03:00:00');
  });

  it('ends at the deadline and stays at zero after it', () => {
    expect(countdown(deadline, at('2026-12-03T00:00:00Z'))).toMatchObject({ ended: true, text: '00:00:00' });
    expect(countdown(deadline, at('2026-12-03T01:00:00Z'))).toMatchObject({ ended: true, text: '00:00:00' });
  });

  it('uses server time: a phone 5 minutes fast still shows the server time left', () => {
    const serverNow = at('2026-12-02T23:00:00Z');
    const phoneNow = serverNow + 5 * 60_000;
    const offset = clockOffset(serverNow - 500, phoneNow - 100, phoneNow + 100); // Date header truncates to the second
    expect(countdown(deadline, phoneNow + offset).text).toBe('01:00:00');
  });
});

describe('clockOffset', () => {
  it('is the server time minus the phone time at the middle of the round trip', () => {
    expect(clockOffset(10_000, 3_000, 4_000)).toBe(10_500 - 3_500);
  });
});
