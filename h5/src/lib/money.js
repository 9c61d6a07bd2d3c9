// Money is integer fen everywhere (docs/api.md §3.1); shown as yuan with two decimals, computed without floating point.

/** 1990 → "¥19.90"; -50 → "-¥0.50". */
export function yuan(fen) {
  const value = Number.isFinite(fen) ? Math.trunc(fen) : 0;
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** What a group buyer saves against buying alone, in fen (never negative). */
export function savingFen(campaign) {
  return Math.max(0, (campaign?.soloPriceFen ?? 0) - (campaign?.groupPriceFen ?? 0));
}
