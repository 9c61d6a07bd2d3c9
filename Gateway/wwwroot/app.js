// GroupPay H5 demo: lists campaigns, starts a group, shows one group (live through server-sent events) and pays
// through WeixinJSBridge inside WeChat or the sandbox cashier outside it. Plain DOM, no framework, no CDN.
'use strict';

const app = document.getElementById('app');
const who = document.getElementById('who');
const REF_KEY = 'grouppay.ref';
let me = null;
let config = { sandboxCashierUrl: null };
let events = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const yuan = fen => '¥' + (fen / 100).toFixed(2);

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  return { ok: response.ok, status: response.status, data };
}

function signIn() {
  location.href = '/auth/login?returnUrl=' + encodeURIComponent(location.pathname + location.search);
}

function problem(result) {
  const data = result.data || {};
  return (data.code ? data.code + ': ' : '') + (data.detail || data.title || ('HTTP ' + result.status));
}

function show(...nodes) {
  app.replaceChildren(...nodes);
}

function shareRef() {
  return sessionStorage.getItem(REF_KEY) || undefined;
}

// ---- Home: campaigns, my groups, my rewards -------------------------------------------------------------

async function home() {
  const campaigns = await api('GET', '/api/campaigns');
  const list = el('div', {}, (campaigns.data || []).map(campaign => el('div', { class: 'card' },
    el('h1', {}, campaign.title),
    el('div', {}, el('span', { class: 'price' }, yuan(campaign.groupPriceFen)), el('span', { class: 'muted solo' }, yuan(campaign.soloPriceFen))),
    el('p', { class: 'muted' }, `${campaign.groupSize} 人团 · ${campaign.windowMinutes} 分钟内成团 · 剩余 ${campaign.remainingStock}`),
    el('div', { class: 'actions' }, el('button', { disabled: !campaign.active || campaign.remainingStock === 0, onclick: () => startGroup(campaign.campaignId) }, '发起拼团 Start a group')))));
  const sections = [el('h2', {}, '拼团活动 Campaigns'), campaigns.data && campaigns.data.length ? list : el('p', { class: 'muted' }, 'No campaigns yet.')];
  if (me) {
    const [groups, rewards] = await Promise.all([api('GET', '/api/me/groups'), api('GET', '/api/me/rewards')]);
    sections.push(el('h2', {}, '我的拼团 My groups'));
    sections.push((groups.data || []).length
      ? el('div', {}, groups.data.map(g => el('div', { class: 'card' },
          el('a', { href: '/g/' + g.groupId }, g.groupId), ' ', el('span', { class: 'status ' + g.status }, g.status),
          el('span', { class: 'muted' }, ` ${g.paidCount}/${g.groupSize} paid`))))
      : el('p', { class: 'muted' }, 'None yet.'));
    if (rewards.ok) {
      const r = rewards.data;
      sections.push(el('h2', {}, '邀请奖励 Rewards'), el('div', { class: 'card' },
        el('p', {}, `Invited ${r.invitedCount} · pending ${yuan(r.pendingFen)} · granted ${yuan(r.grantedFen)} · reversed ${yuan(r.reversedFen)}`),
        el('p', { class: 'muted' }, 'Your referral code: ', r.referralCode)));
    }
  }
  show(...sections);
}

async function startGroup(campaignId) {
  if (!me) return signIn();
  const result = await api('POST', '/api/groups', { campaignId, ref: shareRef() });
  if (!result.ok) return alert(problem(result));
  location.href = '/g/' + result.data.groupId;
}

// ---- One group --------------------------------------------------------------------------------------------

async function groupPage(groupId) {
  const query = new URLSearchParams(location.search);
  if (query.get('ref')) sessionStorage.setItem(REF_KEY, query.get('ref'));
  const result = await api('GET', '/api/groups/' + groupId + location.search);
  if (!result.ok) return show(el('p', { class: 'error' }, problem(result)));
  const campaign = await api('GET', '/api/campaigns/' + result.data.campaignId);
  const render = group => renderGroup(group, campaign.ok ? campaign.data : null);
  render(result.data);
  if (me) {
    events = new EventSource('/api/groups/' + groupId + '/events');
    events.addEventListener('group', e => render(JSON.parse(e.data)));
  } else {
    setInterval(async () => {
      const next = await api('GET', '/api/groups/' + groupId);
      if (next.ok) render(next.data);
    }, 5000);
  }
}

const statusText = { pending: '待开团 waiting for the leader', open: '拼团中 open', complete: '拼团成功 complete', failed: '拼团失败 failed (refunded)', abandoned: '已取消 abandoned' };

function renderGroup(group, campaign) {
  const live = group.status === 'pending' || group.status === 'open';
  const mine = group.mySlot !== undefined ? group.slots[group.mySlot] : null;
  const actions = [];
  if (!me && live) {
    actions.push(el('button', { onclick: signIn }, '登录参团 Sign in to join'));
  } else if (live && mine && mine.status === 'held') {
    actions.push(el('button', { onclick: () => pay(group.groupId, {}) }, '支付我的份额 Pay my share'));
  } else if (live && !mine && group.status === 'open') {
    actions.push(el('button', { onclick: () => pay(group.groupId, { ref: shareRef() }) }, '参团支付 Join and pay'));
  }
  const slots = group.slots.map(slot => {
    const label = slot.status + (slot.isLeader ? ' · 团长' : '') + (slot.isMine ? ' · me' : '') + (slot.paidOnBehalf ? ' · 代付' : '');
    const payFor = me && live && !slot.isMine && slot.status === 'held'
      ? el('button', { class: 'secondary', onclick: () => pay(group.groupId, { slot: slot.index, ref: shareRef() }) }, '帮TA付 Pay for friend')
      : null;
    return el('li', { class: [slot.status, slot.isMine ? 'mine' : ''].join(' ') }, el('div', {}, '#' + (slot.index + 1)), el('div', { class: 'muted' }, label), payFor);
  });
  show(
    el('div', { class: 'card' },
      el('h1', {}, campaign ? campaign.title : group.campaignId),
      campaign ? el('div', {}, el('span', { class: 'price' }, yuan(campaign.groupPriceFen)), el('span', { class: 'muted solo' }, yuan(campaign.soloPriceFen))) : null,
      el('p', {}, el('span', { class: 'status ' + group.status }, statusText[group.status] || group.status),
        ` ${group.paidCount}/${group.groupSize} paid`,
        group.deadline ? el('span', { class: 'muted' }, ' · until ' + new Date(group.deadline).toLocaleString()) : null),
      el('ul', { class: 'slots' }, slots),
      el('div', { class: 'actions' }, actions)),
    el('div', { class: 'card' },
      el('p', { class: 'muted' }, '分享给好友 Share with friends (they can join, or pay a held slot for its member):'),
      el('input', { class: 'share', readonly: true, value: group.shareUrl, onclick: e => e.target.select() })));
}

async function pay(groupId, body) {
  const result = await api('POST', '/api/groups/' + groupId + '/pay', body);
  if (!result.ok) return alert(problem(result));
  const jsapi = result.data.jsapi;
  if (window.WeixinJSBridge) {
    window.WeixinJSBridge.invoke('getBrandWCPayRequest', jsapi, answer => {
      if (answer.err_msg !== 'get_brand_wcpay_request:ok') alert(answer.err_msg);
    });
    return;
  }
  if (!config.sandboxCashierUrl) return alert('Open this page in WeChat to pay.');
  const query = new URLSearchParams({ ...jsapi, openid: me.openid, returnUrl: location.href });
  location.href = config.sandboxCashierUrl + '?' + query;
}

// ---- Start --------------------------------------------------------------------------------------------------

async function start() {
  const [profile, h5] = await Promise.all([api('GET', '/api/me'), api('GET', '/h5/config')]);
  me = profile.ok ? profile.data : null;
  if (h5.ok) config = h5.data;
  who.replaceChildren(me
    ? el('span', {}, me.openid.slice(0, 8) + '… ', el('a', { href: '#', onclick: async e => { e.preventDefault(); await api('POST', '/auth/logout'); location.reload(); } }, 'sign out'))
    : el('a', { href: '#', onclick: e => { e.preventDefault(); signIn(); } }, 'sign in'));
  const match = /^\/g\/([0-9a-z]{6,24})$/.exec(location.pathname);
  await (match ? groupPage(match[1]) : home());
}

start().catch(error => show(el('p', { class: 'error' }, String(error))));
