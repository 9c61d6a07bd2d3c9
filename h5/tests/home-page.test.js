import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import Vant from 'vant';
import Home from '../src/pages/Home.vue';

const campaign = id => ({
  campaignId: id, title: `活动 ${id}`, soloPriceFen: 2990, groupPriceFen: 1990, groupSize: 2, windowMinutes: 1440,
  stock: 10, remainingStock: 8, active: true, imageUrl: null, description: null,
});
const openGroup = id => ({
  groupId: id, campaignId: 'x', status: 'open', groupSize: 2, paidCount: 1,
  deadline: new Date(Date.now() + 3_600_000).toISOString(), slots: [],
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the home page', () => {
  it('lists each campaign\'s open groups whatever order their answers arrive in', async () => {
    // The first campaign's list answers last: it must not put back the state from before the second one's answer.
    const answers = {};
    const headers = { Date: new Date().toUTCString(), 'Content-Type': 'application/json' };
    globalThis.fetch = vi.fn(url => {
      const path = String(url);
      if (path === '/api/campaigns') {
        return Promise.resolve(new Response(JSON.stringify([campaign('a'), campaign('b')]), { status: 200, headers }));
      }
      const id = path.split('/')[3];
      return new Promise(resolve => {
        answers[id] = () => resolve(new Response(JSON.stringify([openGroup(`group${id}aaaaa`)]), { status: 200, headers }));
      });
    });
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: Home }, { path: '/g/:groupId', component: Home }] });
    await router.push('/');
    const wrapper = mount(Home, { global: { plugins: [router, Vant] } });
    await flushPromises();

    answers.b();
    await flushPromises();
    answers.a();
    await flushPromises();

    const links = wrapper.findAll('[data-test=open-group]').map(a => a.attributes('href'));
    expect(links).toEqual(['/g/groupaaaaaa', '/g/groupbaaaaa']);
    wrapper.unmount();
  });
});
