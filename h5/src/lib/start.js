// Starting a group under a client request id (x-requestid): one id per intent to start a group in a campaign, kept
// until the gateway has answered for it. Tapping again after a lost answer (no network, a 5xx or 503) sends the same id,
// so the gateway returns the group the first try made instead of holding a second unit of stock.

const KEY = 'grouppay.start.';

/** A fresh request id: 32 hex digits (Gateway/Api/EdgeRules.IsRequestId takes 8..64 of [0-9A-Za-z_-]). */
export function newRequestId(random = crypto) {
  const bytes = random.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

/** True when the answer may not have been the gateway's last word on the request: try again with the same id. */
export function mayRetry(error) {
  return error?.status === 0 || error?.status >= 500;
}

/** POST /api/groups for campaignId; `call` is api() (injected in tests). */
export async function startGroup(call, campaignId, ref, storage = sessionStorage) {
  const key = KEY + campaignId;
  let requestId = storage.getItem(key);
  if (!requestId) {
    requestId = newRequestId();
    storage.setItem(key, requestId);
  }
  try {
    const group = await call('POST', '/api/groups', { campaignId, ref }, { 'x-requestid': requestId });
    storage.removeItem(key);
    return group;
  } catch (e) {
    if (!mayRetry(e)) {
      storage.removeItem(key); // a definite refusal: the next tap is a new intent
    }
    throw e;
  }
}
