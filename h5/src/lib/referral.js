// The inviter's referral code a share link carries (?ref=): kept for the tab so that the purchase it leads to credits
// the inviter. A malformed one is dropped silently (the gateway refuses a malformed ref on pay and start), and a bad
// one left in storage by an earlier page is never sent.

const KEY = 'grouppay.ref';
const PATTERN = /^[0-9a-z]{4,32}$/; // Gateway/Api/EdgeRules.IsReferralCode

export function isReferralCode(value) {
  return typeof value === 'string' && PATTERN.test(value);
}

/** Remembers a well-formed code from a link; ignores anything else. */
export function rememberRef(value, storage = sessionStorage) {
  if (isReferralCode(value)) {
    storage.setItem(KEY, value);
  }
}

/** The remembered code, or undefined (so JSON leaves it out). */
export function currentRef(storage = sessionStorage) {
  const value = storage.getItem(KEY);
  if (value !== null && !isReferralCode(value)) {
    storage.removeItem(KEY);
    return undefined;
  }
  return value ?? undefined;
}
