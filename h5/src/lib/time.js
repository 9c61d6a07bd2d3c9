// Times arrive as ISO-8601 UTC; the shopper reads China time (UTC+8, no daylight saving), whatever the phone's zone.
import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc';

dayjs.extend(utc);

const CHINA_OFFSET_MINUTES = 8 * 60;

/** "2026-12-02T19:08:45Z" → "12月3日 03:08". */
export function chinaTime(iso) {
  if (!iso) {
    return '';
  }
  return dayjs.utc(iso).utcOffset(CHINA_OFFSET_MINUTES).format('M月D日 HH:mm');
}

/** A campaign's window: 1440 → "24 小时", 90 → "1 小时 30 分钟", 30 → "30 分钟". */
export function windowText(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) {
    return `${rest} 分钟`;
  }
  return rest === 0 ? `${hours} 小时` : `${hours} 小时 ${rest} 分钟`;
}

/**
 * The phone's clock error against the server's, in ms (add it to Date.now() to get server time), from a response's
 * Date header (whole seconds: the true time is up to 1 s later, so the middle of that second is taken) and when the
 * request went out and its answer came back.
 */
export function clockOffset(serverDateMs, sentMs, receivedMs) {
  return serverDateMs + 500 - (sentMs + receivedMs) / 2;
}

/** The time left until a deadline as the page shows it: {ended, days, hours, minutes, seconds, text}. */
export function countdown(deadlineIso, serverNowMs) {
  const left = Math.max(0, Math.floor((Date.parse(deadlineIso) - serverNowMs) / 1000));
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const two = n => String(n).padStart(2, '0');
  const clock = `${two(hours)}:${two(minutes)}:${two(seconds)}`;
  return { ended: left === 0, days, hours, minutes, seconds, text: days > 0 ? `${days}天 ${clock}` : clock };
}
