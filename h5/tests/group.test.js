import { describe, expect, it } from 'vitest';
import { groupActions, missingCount, myRefunds, outcome, progressPercent } from '../src/lib/group.js';

const slot = (index, status, extra = {}) => ({ index, status, isLeader: index === 0, isMine: false, paidOnBehalf: false, ...extra });
const group = (status, slots, mySlot) => ({
  groupId: 'abcdef123456', campaignId: 'demo', status, groupSize: slots.length, paidCount: slots.filter(s => s.status === 'paid').length,
  deadline: '2026-12-03T00:00:00Z', shareUrl: 'http://127.0.0.1/g/abcdef123456?ref=abcd2345', slots, mySlot,
});
const kinds = g => groupActions(g).map(a => (a.slot === undefined ? a.kind : `${a.kind}:${a.slot}`));

describe('groupActions', () => {
  it('offers a visitor 参团支付 while a slot is free, and inviting', () => {
    expect(kinds(group('open', [slot(0, 'paid'), slot(1, 'free'), slot(2, 'free')]))).toEqual(['join', 'invite']);
  });

  it('does not offer 参团支付 when every free slot is held (bug 1), only paying for a held slot', () => {
    const g = group('open', [slot(0, 'paid'), slot(1, 'held'), slot(2, 'held')]);
    expect(kinds(g)).toEqual(['full', 'pay-for:1', 'pay-for:2', 'invite']);
  });

  it('offers my held slot 支付我的份额 and 找人代付, never 帮TA付 on my own slot', () => {
    const g = group('pending', [slot(0, 'held', { isMine: true }), slot(1, 'free')], 0);
    expect(kinds(g)).toEqual(['pay-mine', 'ask-friend', 'invite']);
  });

  it('offers a paid member only inviting (and paying for held friends)', () => {
    const g = group('open', [slot(0, 'paid', { isMine: true }), slot(1, 'held'), slot(2, 'free')], 0);
    expect(kinds(g)).toEqual(['pay-for:1', 'invite']);
  });

  it('offers nothing to pay while the leader has not paid, to a visitor', () => {
    expect(kinds(group('pending', [slot(0, 'held'), slot(1, 'free')]))).toEqual(['pay-for:0']);
  });

  it.each(['complete', 'failed', 'abandoned'])('offers only 再开一团 on a %s group: no sharing', status => {
    expect(kinds(group(status, [slot(0, 'paid', { isMine: true }), slot(1, 'free')], 0))).toEqual(['restart']);
  });
});

describe('还差 N 人 and the progress bar', () => {
  it('counts the slots not yet paid', () => {
    const g = group('open', [slot(0, 'paid'), slot(1, 'held'), slot(2, 'free')]);
    expect(missingCount(g)).toBe(2);
    expect(progressPercent(g)).toBe(33);
  });

  it('counts virtual fills as filled', () => {
    const g = group('complete', [slot(0, 'paid'), slot(1, 'virtual')]);
    expect(missingCount(g)).toBe(0);
    expect(progressPercent(g)).toBe(100);
  });
});

describe('outcome', () => {
  it('tells a paid member of a complete group what happens next', () => {
    const done = outcome(group('complete', [slot(0, 'paid', { isMine: true }), slot(1, 'paid')], 0), { groupPriceFen: 1990 });
    expect(done.kind).toBe('success');
    expect(done.text).toContain('发货');
  });

  it('shows a failed group its refund amount and status', () => {
    const failed = outcome(group('failed', [slot(0, 'refunding', { isMine: true }), slot(1, 'free')], 0), { groupPriceFen: 1990 });
    expect(failed).toMatchObject({ kind: 'failure', refund: { amountFen: 1990, status: '退款中' } });
    expect(failed.text).toContain('原路退回');
  });

  it('shows the refund of a friend who paid on behalf and holds no slot', () => {
    const failed = outcome({ ...group('failed', [slot(0, 'refunded'), slot(1, 'refunded')]), myRefunds: [{ amountFen: 1990, status: 'refunded', reason: 'group-failed' }] }, { groupPriceFen: 1990 });
    expect(failed).toMatchObject({ kind: 'failure', refund: { amountFen: 1990, status: '已退款' } });
  });

  it('is null while the group is live', () => {
    expect(outcome(group('open', [slot(0, 'paid'), slot(1, 'free')]), null)).toBeNull();
  });
});

describe('myRefunds (bug 6)', () => {
  it('tells the payer of a payment that was not needed that it goes back, and how far it got', () => {
    const g = { ...group('open', [slot(0, 'paid', { paidOnBehalf: true }), slot(1, 'free')]), myRefunds: [
      { amountFen: 1990, status: 'refunding', reason: 'not-used' },
      { amountFen: 1990, status: 'refunded', reason: 'not-used' },
    ] };

    expect(myRefunds(g)).toEqual([
      { amountFen: 1990, status: '退款中', text: '这笔付款没有用上（名额已被付清或支付已超时），正在原路退回到你的微信支付账户。' },
      { amountFen: 1990, status: '已退款', text: '这笔付款没有用上（名额已被付清或支付已超时），已原路退回到你的微信支付账户。' },
    ]);
  });

  it('leaves a failed group\'s refunds to its outcome and is empty without any', () => {
    expect(myRefunds({ ...group('failed', [slot(0, 'refunded')]), myRefunds: [{ amountFen: 1990, status: 'refunded', reason: 'group-failed' }] })).toEqual([]);
    expect(myRefunds(group('open', [slot(0, 'paid')]))).toEqual([]);
  });
});

