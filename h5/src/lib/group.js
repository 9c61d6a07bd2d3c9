// What the group page shows a viewer: the status in plain Chinese, how many are still needed, and only the actions
// that apply to this viewer in this state (the page renders exactly these).

export const GROUP_STATUS = {
  pending: '等待团长支付',
  open: '拼团中',
  complete: '拼团成功',
  failed: '拼团失败',
  abandoned: '已取消',
};

export const SLOT_STATUS = {
  free: '待加入',
  held: '待支付',
  paid: '已支付',
  refunding: '退款中',
  refunded: '已退款',
  virtual: '已拼',
};

export function isLive(group) {
  return group.status === 'pending' || group.status === 'open';
}

export function mySlot(group) {
  return group.mySlot === undefined || group.mySlot === null ? null : group.slots[group.mySlot] ?? null;
}

/** 还差 N 人: slots not yet paid (virtual fills count as filled). */
export function missingCount(group) {
  return group.slots.filter(slot => slot.status !== 'paid' && slot.status !== 'virtual').length;
}

/** The progress bar's exact percentage of filled slots. */
export function progressPercent(group) {
  if (!group.groupSize) {
    return 0;
  }
  return Math.round(((group.groupSize - missingCount(group)) / group.groupSize) * 100);
}

/**
 * The actions that apply, in display order:
 *  {kind: 'pay-mine'}           my slot is held and unpaid: 支付我的份额
 *  {kind: 'ask-friend'}         …and a friend could pay it for me: 找人代付
 *  {kind: 'join'}               I am not a member and a slot is free: 参团支付
 *  {kind: 'full'}               I am not a member, no slot is free but some are held (no 参团支付: it would fail)
 *  {kind: 'pay-for', slot: i}   someone else's held slot: 帮TA付
 *  {kind: 'invite'}             the group is live and I am in it (or it is open): 邀请好友
 *  {kind: 'restart'}            the group has ended: 再开一团
 */
export function groupActions(group) {
  const actions = [];
  const live = isLive(group);
  const mine = mySlot(group);
  if (!live) {
    actions.push({ kind: 'restart' });
    return actions;
  }
  if (mine && mine.status === 'held') {
    actions.push({ kind: 'pay-mine' });
    actions.push({ kind: 'ask-friend' });
  }
  if (!mine && group.status === 'open') {
    if (group.slots.some(slot => slot.status === 'free')) {
      actions.push({ kind: 'join' });
    } else if (group.slots.some(slot => slot.status === 'held')) {
      actions.push({ kind: 'full' });
    }
  }
  for (const slot of group.slots) {
    if (slot.status === 'held' && !slot.isMine) {
      actions.push({ kind: 'pay-for', slot: slot.index });
    }
  }
  if (mine || group.status === 'open') {
    actions.push({ kind: 'invite' });
  }
  return actions;
}

/** What the viewer is told about an ended group (null while it is live). */
export function outcome(group, campaign) {
  const mine = mySlot(group);
  if (group.status === 'complete') {
    return {
      kind: 'success',
      title: '拼团成功',
      text: mine && mine.status === 'paid'
        ? '商家将尽快为你发货，发货后可在「我的拼团」查看订单进度。'
        : '这个团已经拼成了，你也可以再开一团，邀请好友一起拼。',
    };
  }
  if (group.status === 'failed' || group.status === 'abandoned') {
    // The viewer's own payments the failure refunds (also a friend's who paid on behalf and holds no slot).
    const failedRefunds = (group.myRefunds ?? []).filter(r => r.reason === 'group-failed');
    const refund = failedRefunds.length > 0
      ? {
          amountFen: failedRefunds.reduce((sum, r) => sum + r.amountFen, 0),
          status: failedRefunds.every(r => r.status === 'refunded') ? '已退款' : '退款中',
        }
      : mine && (mine.status === 'refunding' || mine.status === 'refunded')
        ? { amountFen: campaign?.groupPriceFen ?? 0, status: mine.status === 'refunded' ? '已退款' : '退款中' }
        : null;
    return {
      kind: 'failure',
      title: group.status === 'failed' ? '拼团未成功' : '拼团已取消',
      text: refund ? '你支付的款项将原路退回到你的微信支付账户。' : '到期未凑齐人数，这个团已结束。',
      refund,
    };
  }
  return null;
}

/** The viewer's payments that paid nothing and go back (bug 6: a friend paid the slot first, or the payment came after
 * its attempt was over), each with its amount, status and a sentence; a failed group's refunds are its outcome's. */
export function myRefunds(group) {
  return (group.myRefunds ?? [])
    .filter(r => r.reason === 'not-used')
    .map(r => ({
      amountFen: r.amountFen,
      status: r.status === 'refunded' ? '已退款' : '退款中',
      text: `这笔付款没有用上（名额已被付清或支付已超时），${r.status === 'refunded' ? '已' : '正在'}原路退回到你的微信支付账户。`,
    }));
}

