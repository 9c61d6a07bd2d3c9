import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resetShare, setShareCard, shareCard, sharesHere } from '../src/lib/share.js';

const campaign = {
  campaignId: 'demo', title: '阳山水蜜桃', soloPriceFen: 2990, groupPriceFen: 1990, groupSize: 3,
  imageUrl: '/images/demo-peach.svg', description: '无锡阳山产地直发，现摘现发。',
};
const slot = status => ({ status });
const group = (status, slots) => ({
  groupId: 'abcdef123456', status, groupSize: slots.length, slots, shareUrl: 'https://shop.example/g/abcdef123456?ref=Q7K2M9AB',
});

describe('the share card', () => {
  it('asks for the missing members of an open group, linking the group with the sharer\'s ref', () => {
    const card = shareCard(group('open', [slot('paid'), slot('held'), slot('free')]), campaign, 'https://shop.example');

    expect(card).toEqual({
      title: '还差 2 人！¥19.90 拼阳山水蜜桃',
      desc: '无锡阳山产地直发，现摘现发。',
      link: 'https://shop.example/g/abcdef123456?ref=Q7K2M9AB',
      imgUrl: 'https://shop.example/images/demo-peach.svg',
    });
  });

  it('sends friends of an ended group to the shop, keeping the ref', () => {
    const card = shareCard(group('complete', [slot('paid'), slot('paid'), slot('paid')]), { ...campaign, description: null }, 'https://shop.example');

    expect(card.title).toBe('¥19.90 拼阳山水蜜桃');
    expect(card.desc).toBe('3 人成团，比单买省 ¥10.00');
    expect(card.link).toBe('https://shop.example/?ref=Q7K2M9AB');
  });

  it('is offered with the sandbox stand-in anywhere, with WeChat\'s script only inside WeChat', () => {
    const real = { sandboxCashierUrl: null, jsSdkScriptUrl: 'https://res.wx.qq.com/open/js/jweixin-1.6.0.js' };
    expect(sharesHere({ sandboxCashierUrl: 'http://127.0.0.1:5080/sandbox/cashier', jsSdkScriptUrl: 'http://127.0.0.1:5080/jssdk/jweixin.js' }, 'Chrome')).toBe(true);
    expect(sharesHere(real, 'Mozilla/5.0 (iPhone) MicroMessenger/8.0.50')).toBe(true);
    expect(sharesHere(real, 'Mozilla/5.0 (iPhone) Safari')).toBe(false);
    expect(sharesHere({}, 'MicroMessenger')).toBe(false);
  });
});

describe('setShareCard', () => {
  beforeEach(() => resetShare());

  /** A window whose script tag "loads" a fake wx that records what it is given. */
  function fakeWindow(configOk = true) {
    const wx = {
      configured: null, appMessage: null, timeline: null, readyCallbacks: [], errorCallbacks: [],
      config(c) { this.configured = c; (configOk ? this.readyCallbacks : this.errorCallbacks).forEach(f => f({})); },
      ready(f) { this.readyCallbacks.push(f); },
      error(f) { this.errorCallbacks.push(f); },
      updateAppMessageShareData(d) { this.appMessage = d; },
      updateTimelineShareData(d) { this.timeline = d; },
    };
    const scripts = [];
    const win = {
      navigator: { userAgent: 'MicroMessenger' },
      location: { href: 'https://shop.example/g/abcdef123456?ref=Q7K2M9AB#top' },
      document: {
        createElement: () => ({}),
        head: { appendChild(script) { scripts.push(script.src); win.wx = wx; script.onload(); } },
      },
    };
    return { win, wx, scripts };
  }

  const config = { sandboxCashierUrl: null, jsSdkScriptUrl: 'https://res.wx.qq.com/open/js/jweixin-1.6.0.js' };
  const signed = { appId: 'wx2421b1c4370ec43b', timestamp: 1414587457, nonceStr: 'Wm3WZYTPz0wzccnW', signature: 'f4d9', jsApiList: ['updateAppMessageShareData'] };

  it('configures wx once for the page without its fragment and sets both menus\' cards', async () => {
    const { win, wx, scripts } = fakeWindow();
    const api = vi.fn(async () => signed);
    const card = { title: 't', desc: 'd', link: 'https://shop.example/g/abcdef123456?ref=Q7K2M9AB', imgUrl: 'https://shop.example/i.svg' };

    expect(await setShareCard(card, { api, config, win })).toBe(true);
    expect(await setShareCard({ ...card, title: 't2' }, { api, config, win })).toBe(true);

    expect(scripts).toEqual([config.jsSdkScriptUrl]);
    expect(api).toHaveBeenCalledTimes(1);
    expect(api).toHaveBeenCalledWith('GET', '/api/wechat/jssdk-config?url=' + encodeURIComponent('https://shop.example/g/abcdef123456?ref=Q7K2M9AB'));
    expect(wx.configured).toEqual({ debug: false, ...signed });
    expect(wx.appMessage).toEqual({ ...card, title: 't2' });
    expect(wx.timeline).toEqual({ title: 't2', link: card.link, imgUrl: card.imgUrl });
  });

  it('does nothing, quietly, when the config fails or the page is outside WeChat', async () => {
    const failing = fakeWindow(false);
    expect(await setShareCard({ title: 't' }, { api: async () => signed, config, win: failing.win })).toBe(false);
    expect(failing.wx.appMessage).toBeNull();

    resetShare();
    const outside = fakeWindow();
    outside.win.navigator.userAgent = 'Safari';
    const api = vi.fn();
    expect(await setShareCard({ title: 't' }, { api, config, win: outside.win })).toBe(false);
    expect(outside.scripts).toEqual([]);
    expect(api).not.toHaveBeenCalled();

    resetShare();
    const refused = fakeWindow();
    expect(await setShareCard({ title: 't' }, { api: async () => { throw new Error('503'); }, config, win: refused.win })).toBe(false);
  });
});
