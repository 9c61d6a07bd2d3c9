// Every API error code (docs/api.md §12, the grains' GroupPayException family, the gateway's own) as a sentence a shopper
// understands and the next step offered. The action names are handled by the pages (ErrorNotice).

const MESSAGES = {
  'group-full': { message: '这个团的名额都被占住了（有人正在支付），暂时不能参团。', actions: ['start-new', 'browse'] },
  'group-closed': { message: '这个团已经结束，不能再参加或支付了。', actions: ['start-new', 'browse'] },
  'already-paid': { message: '这个名额已经付过款了，不需要再付。', actions: ['reload'] },
  'own-slot-on-behalf': { message: '这是你自己的名额，请用「支付我的份额」付款。', actions: ['reload'] },
  'too-many-attempts': { message: '这个名额尝试支付的次数太多，已不能再发起支付。', actions: ['start-new', 'browse'] },
  'payment-provider': { message: '微信支付暂时不可用，请稍后重试。', actions: ['retry'] },
  'campaign-closed': { message: '活动已结束或商品已售罄。', actions: ['browse'] },
  'unknown-campaign': { message: '这个活动不存在或已下架。', actions: ['browse'] },
  'unknown-group': { message: '这个团不存在，可能是链接有误。', actions: ['browse'] },
  'invalid-request': { message: '请求有误，请刷新页面后再试。', actions: ['reload'] },
  'request-id-reused': { message: '这次开团请求已经用过了，请刷新页面后重新开团。', actions: ['reload'] },
  'invalid-campaign': { message: '活动设置有误，暂时无法购买。', actions: ['browse'] },
  'unauthenticated': { message: '请先登录。', actions: ['sign-in'] },
  'forbidden': { message: '你没有权限进行这个操作。', actions: ['browse'] },
  'rate-limited': { message: '操作太频繁了，请稍等片刻再试。', actions: ['retry'] },
  'invalid-state': { message: '登录链接已失效（可能是返回了授权页），请重新登录。', actions: ['sign-in', 'browse'] },
  'oauth-refused': { message: '微信登录没有成功，请重新登录。', actions: ['sign-in', 'browse'] },
  'oauth-provider': { message: '微信暂时无法完成登录，请稍后重试。', actions: ['sign-in', 'browse'] },
  'not-found': { message: '页面不存在。', actions: ['browse'] },
  'open-in-wechat': { message: '请在微信中打开这个页面完成支付。', actions: ['browse'] },
  'network': { message: '网络不太好，请检查网络后重试。', actions: ['retry'] },
};

const FALLBACK = { message: '出了点问题，请稍后再试。', actions: ['retry', 'browse'] };

/** Labels of the next actions. */
export const ACTION_LABELS = {
  'start-new': '去开新团',
  'browse': '看看其他团',
  'reload': '刷新页面',
  'retry': '重试',
  'sign-in': '重新登录',
};

/** The code of a failed call: the problem's `code`, else one from its HTTP status. */
export function problemCode(status, body) {
  if (body && typeof body.code === 'string') {
    return body.code;
  }
  if (status === 0) {
    return 'network';
  }
  return status === 401 ? 'unauthenticated' : status === 404 ? 'not-found' : status === 429 ? 'rate-limited' : 'unknown';
}

/** {code, message, actions: [{name, label}]} for a code; never the API's English detail. */
export function describeError(code) {
  const known = MESSAGES[code] ?? FALLBACK;
  return { code, message: known.message, actions: known.actions.map(name => ({ name, label: ACTION_LABELS[name] })) };
}

export function isKnownCode(code) {
  return Object.hasOwn(MESSAGES, code);
}
