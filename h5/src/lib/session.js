// Who is signed in, the H5 config, signing in with an intent, and paying.
import { reactive } from 'vue';
import { api, ApiError } from './api.js';

export const session = reactive({ me: null, loaded: false, config: { sandboxCashierUrl: null } });

export async function loadSession() {
  const [me, config] = await Promise.allSettled([api('GET', '/api/me'), api('GET', '/h5/config')]);
  session.me = me.status === 'fulfilled' ? me.value : null;
  if (config.status === 'fulfilled') {
    session.config = config.value;
  }
  session.loaded = true;
}

/**
 * Signs in and comes back to `path` with the intent in its query (`do=start&campaign=…`, `do=join`, `do=pay`,
 * `do=payfor&slot=…`), which the page then carries out once.
 */
export function signIn(path, intent) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(intent ?? {})) {
    url.searchParams.set(key, String(value));
  }
  location.href = '/auth/login?returnUrl=' + encodeURIComponent(url.pathname + url.search);
}

export async function signOut() {
  await api('POST', '/auth/logout');
  location.href = '/';
}

/**
 * Starts a payment and hands it to WeChat: WeixinJSBridge inside WeChat, the sandbox cashier elsewhere (which comes
 * back to `returnPath`). Resolves 'bridge-ok' | 'cancel' | 'fail' | 'redirected'; never treats the bridge's ok as
 * paid: the page waits for the group to show the payment.
 */
export async function pay(groupId, body, returnPath) {
  const payment = await api('POST', `/api/groups/${groupId}/pay`, body);
  if (window.WeixinJSBridge) {
    return new Promise(resolve => {
      window.WeixinJSBridge.invoke('getBrandWCPayRequest', payment.jsapi, answer => {
        const message = answer?.err_msg ?? '';
        resolve(message.endsWith(':ok') ? 'bridge-ok' : message.endsWith(':cancel') ? 'cancel' : 'fail');
      });
    });
  }
  if (!session.config.sandboxCashierUrl) {
    throw new ApiError(0, 'open-in-wechat');
  }
  const query = new URLSearchParams({ ...payment.jsapi, openid: session.me.openid, returnUrl: location.origin + returnPath });
  location.href = session.config.sandboxCashierUrl + '?' + query;
  return 'redirected';
}
