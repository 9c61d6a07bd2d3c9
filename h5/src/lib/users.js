// snsapi_base gives an openid, no nickname or avatar: the sandbox's test users get their names, anyone else a masked
// one (never the openid in full). Avatars are generated: a coloured disc with the name's first character.

const SANDBOX_NAMES = { alice: '爱丽丝', bob: '鲍勃', carol: '卡罗尔', dave: '大卫' };
const COLOURS = ['#e02e24', '#ff8f1f', '#07c160', '#1989fa', '#7232dd', '#ee0a24', '#00a0e9', '#d4237a'];

export function displayName(openid) {
  if (!openid) {
    return '';
  }
  const sandbox = /^o-sandbox-([0-9a-z]+)$/i.exec(openid);
  if (sandbox) {
    return SANDBOX_NAMES[sandbox[1].toLowerCase()] ?? `测试用户 ${sandbox[1]}`;
  }
  return `微信用户 ${openid.slice(-4)}`;
}

/** Another member's name from the group's `member` tag (`sandbox:alice`, or an openid's last four characters). */
export function memberName(tag) {
  if (!tag) {
    return '';
  }
  const sandbox = /^sandbox:([0-9a-z]+)$/i.exec(tag);
  return sandbox ? displayName(`o-sandbox-${sandbox[1]}`) : `微信用户 ${tag}`;
}

/** A stable colour for a seed (a name or a slot index). */
export function avatarColour(seed) {
  const text = String(seed);
  let hash = 0;
  for (const ch of text) {
    hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  }
  return COLOURS[hash % COLOURS.length];
}
