// The gateway's JSON API (docs/api.md). Every answer's Date header keeps the phone's clock offset up to date, so the
// countdowns tick in server time; failures become an ApiError with the problem's stable code.
import { clockOffset, problemCode } from './index.js';

let offsetMs = 0;

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Server time now, in ms. */
export function serverNow() {
  return Date.now() + offsetMs;
}

export async function api(method, path, body, headers) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const sent = Date.now();
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network');
  }
  const received = Date.now();
  const date = Date.parse(response.headers.get('Date') ?? '');
  if (Number.isFinite(date)) {
    offsetMs = clockOffset(date, sent, received);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, problemCode(response.status, data), data?.detail);
  }
  return data;
}
