// The WeChat share card (JS-SDK): what a friend sees when the page is shared from WeChat's menu. Inside WeChat the app
// loads WeChat's script; against the sandbox it loads the sandbox's `wx` stand-in in any browser, so the same code runs.
// Sharing itself earns nothing (WeChat's rules): rewards come from friends' purchases through the link's ref code.
import { yuan, savingFen } from './money.js';
import { missingCount } from './group.js';

/** The card for a group page: an open group asks for the missing members; an ended one invites to the campaign. */
export function shareCard(group, campaign, origin) {
  const title = campaign?.title ?? '拼团商品';
  const price = campaign ? yuan(campaign.groupPriceFen) : '';
  const imgUrl = campaign?.imageUrl ? new URL(campaign.imageUrl, origin).toString() : undefined;
  const saving = campaign && savingFen(campaign) > 0 ? `，比单买省 ${yuan(savingFen(campaign))}` : '';
  if (group.status === 'open') {
    return {
      title: `还差 ${missingCount(group)} 人！${price} 拼${title}`,
      desc: campaign?.description || `${group.groupSize} 人成团${saving}，快来一起拼`,
      link: group.shareUrl,
      imgUrl,
    };
  }
  // Ended: the link goes to the shop's home page, keeping the sharer's ref code.
  const home = new URL('/', origin);
  const ref = new URL(group.shareUrl, origin).searchParams.get('ref');
  if (ref) {
    home.searchParams.set('ref', ref);
  }
  return { title: `${price} 拼${title}`, desc: campaign?.description || `${campaign?.groupSize ?? group.groupSize} 人成团${saving}`, link: home.toString(), imgUrl };
}

/** True when this browser gets a share card: the sandbox's stand-in anywhere, WeChat's script only inside WeChat. */
export function sharesHere(config, userAgent) {
  if (!config?.jsSdkScriptUrl) {
    return false;
  }
  return Boolean(config.sandboxCashierUrl) || /MicroMessenger/i.test(userAgent ?? '');
}

let ready = null;

/** Loads the script and configures `wx` for this page once; resolves to `wx` once it is ready, or null. */
export function configureWx({ api, config, win = window }) {
  if (ready) {
    return ready;
  }
  ready = (async () => {
    if (!sharesHere(config, win.navigator?.userAgent)) {
      return null;
    }
    await loadScript(win.document, config.jsSdkScriptUrl);
    const wx = win.wx;
    const signed = await api('GET', `/api/wechat/jssdk-config?url=${encodeURIComponent(win.location.href.split('#')[0])}`);
    return new Promise(resolve => {
      wx.ready(() => resolve(wx));
      wx.error(() => resolve(null));
      wx.config({ debug: false, ...signed });
    });
  })().catch(() => null);
  return ready;
}

/** Sets the card for both WeChat menus (friend and Moments); quietly does nothing where there is no card. */
export async function setShareCard(card, deps) {
  const wx = await configureWx(deps);
  if (!wx) {
    return false;
  }
  wx.updateAppMessageShareData({ title: card.title, desc: card.desc, link: card.link, imgUrl: card.imgUrl });
  wx.updateTimelineShareData({ title: card.title, link: card.link, imgUrl: card.imgUrl });
  return true;
}

/** For tests: forget the configured page. */
export function resetShare() {
  ready = null;
}

function loadScript(doc, src) {
  return new Promise((resolve, reject) => {
    const script = doc.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    doc.head.appendChild(script);
  });
}
