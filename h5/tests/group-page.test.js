import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import Vant from 'vant';
import Group from '../src/pages/Group.vue';

const campaign = {
  campaignId: 'demo', title: '阳山水蜜桃', soloPriceFen: 2990, groupPriceFen: 1990, groupSize: 2, windowMinutes: 1440,
  stock: 10, remainingStock: 8, active: true, imageUrl: '/images/demo-peach.svg', description: null,
};
const slot = (index, status, extra = {}) => ({ index, status, isLeader: index === 0, isMine: false, paidOnBehalf: false, ...extra });

/** Mounts the group page at `path` (signed out) against canned answers: `group` for the group, 404 when null. */
async function mountGroup(path, group) {
  globalThis.fetch = vi.fn(async url => {
    const headers = { Date: new Date().toUTCString(), 'Content-Type': 'application/json' };
    if (String(url).startsWith('/api/campaigns/')) {
      return new Response(JSON.stringify(campaign), { status: 200, headers });
    }
    return group
      ? new Response(JSON.stringify(group), { status: 200, headers })
      : new Response(JSON.stringify({ code: 'unknown-group' }), { status: 404, headers });
  });
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/g/:groupId', component: Group }, { path: '/', component: Group }] });
  await router.push(path);
  const wrapper = mount(Group, { global: { plugins: [router, Vant] } });
  await flushPromises();
  return wrapper;
}

const openGroup = slots => ({
  groupId: 'abcdef123456', campaignId: 'demo', status: 'open', groupSize: slots.length, paidCount: 1,
  deadline: new Date(Date.now() + 3_600_000).toISOString(), shareUrl: 'http://127.0.0.1/g/abcdef123456', slots,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the group page', () => {
  it('tells the payer of a payment a friend made unnecessary that it is refunded (bug 6)', async () => {
    const wrapper = await mountGroup('/g/abcdef123456', {
      ...openGroup([slot(0, 'paid', { paidOnBehalf: true }), slot(1, 'free')]),
      myRefunds: [{ amountFen: 1990, status: 'refunded', reason: 'not-used' }],
    });

    const notice = wrapper.find('[data-test=my-refund]').text();
    expect(notice).toContain('没有用上');
    expect(notice).toContain('已原路退回');
    expect(notice).toContain('¥19.90');
    expect(notice).toContain('已退款');
    wrapper.unmount();
  });

  it('renders each slot with its member, status and 帮TA付 on a held one, and no 参团支付 when none is free', async () => {
    const wrapper = await mountGroup('/g/abcdef123456', openGroup([slot(0, 'paid'), slot(1, 'held')]));

    const members = wrapper.findAll('[data-test=member]').map(m => m.text());
    expect(members[0]).toContain('团长');
    expect(members[0]).toContain('已支付');
    expect(members[1]).toContain('待支付');
    expect(members[1]).toContain('帮TA付');
    expect(wrapper.find('[data-test=join]').exists()).toBe(false);
    expect(wrapper.find('[data-test=full]').exists()).toBe(true);
    expect(wrapper.find('[data-test=missing]').text()).toBe('还差 1 人拼成');
    wrapper.unmount();
  });

  it('names the other members from their tags, and 拼友N when there is none', async () => {
    const wrapper = await mountGroup('/g/abcdef123456', openGroup([slot(0, 'paid', { member: 'sandbox:alice' }), slot(1, 'held', { member: 'WeS6' }), slot(2, 'paid')]));

    const names = wrapper.findAll('[data-test=member]').map(m => m.text());
    expect(names[0]).toContain('爱丽丝');
    expect(names[1]).toContain('微信用户 WeS6');
    expect(names[2]).toContain('拼友3');
    wrapper.unmount();
  });

  it('offers 参团支付 with the group price while a slot is free', async () => {
    const wrapper = await mountGroup('/g/abcdef123456', openGroup([slot(0, 'paid'), slot(1, 'free')]));

    expect(wrapper.find('[data-test=join]').text()).toBe('参团支付 ¥19.90');
    expect(wrapper.find('[data-test=members]').text()).toContain('待加入');
    wrapper.unmount();
  });

  it('asks the visitor of a 找人代付 link to pay that slot', async () => {
    const wrapper = await mountGroup('/g/abcdef123456?for=1', openGroup([slot(0, 'paid'), slot(1, 'held')]));

    expect(wrapper.find('[data-test=help-request]').text()).toContain('好友请你帮TA支付 ¥19.90');
    wrapper.unmount();
  });

  it('shows the 404 page for a group that does not exist', async () => {
    const wrapper = await mountGroup('/g/doesnotexist', null);

    expect(wrapper.find('[data-test=not-found]').exists()).toBe(true);
    expect(wrapper.text()).toContain('页面不存在');
    wrapper.unmount();
  });
});
