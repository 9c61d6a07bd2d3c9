export { yuan, savingFen } from './money.js';
export { chinaTime, windowText, clockOffset, countdown } from './time.js';
export { describeError, problemCode, isKnownCode, ACTION_LABELS } from './errors.js';
export { isReferralCode, rememberRef, currentRef } from './referral.js';
export { displayName, memberName, avatarColour } from './users.js';
export { GROUP_STATUS, SLOT_STATUS, isLive, mySlot, missingCount, progressPercent, groupActions, outcome, myRefunds } from './group.js';
