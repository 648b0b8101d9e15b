/*
 * api.js — the JSON API of mapd, and the session state of this tab.
 *
 * The session cookie is HttpOnly: the page never sees it. What the page keeps
 * is the CSRF token returned at login (in localStorage, so that a reload keeps
 * the session usable) and the account from GET /api/me, which carries the
 * session's token too: every read of the account takes it, so a page whose
 * storage was cleared while the cookie lives (or holds another session's
 * token) is usable again at once. Every change of the
 * session is announced as a `session` change (events.js): login, logout
 * (also when the server answers 401 to a logged-in page), update.
 */
import { changed } from './events.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

const CSRF_KEY = 'entraide.csrf';

export const session = {
  me: null,                              // the account (GET /api/me) or null when anonymous
  csrf: localStorage.getItem(CSRF_KEY),  // the token every change sends (X-CSRF-Token)
};

/** One request. Resolves to the parsed JSON (null for 204), throws ApiError. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json, application/geo+json, application/problem+json' };
  // The server answers problems (errors) in the page's language.
  headers['Accept-Language'] = document.documentElement.lang || 'fr';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let r;
  try {
    r = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { detail: 'network' });
  }
  const text = await r.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch { doc = null; }
  if (!r.ok) {
    if (r.status === 401 && session.me && path !== '/api/session') setSession(null, null);
    throw new ApiError(r.status, doc);
  }
  return doc;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}

/** Keeps csrf (null: none) as the token every change sends, here and in localStorage. */
export function keepToken(csrf) {
  session.csrf = csrf;
  try {
    if (csrf) localStorage.setItem(CSRF_KEY, csrf); else localStorage.removeItem(CSRF_KEY);
  } catch { /* storage may be off: the token lives in this tab */ }
}

/** Sets the account (null: logged out) and the CSRF token: csrf when given, else the
 * account's own (GET /api/me carries it); announces the change. */
export function setSession(me, csrf) {
  const before = session.me;
  session.me = me;
  if (csrf === undefined && me && me.csrf) csrf = me.csrf;
  if (csrf !== undefined) keepToken(csrf);
  const action = !me ? 'logout' : before && before.id === me.id ? 'update' : 'login';
  changed({ kind: 'session', id: (me || before || {}).id ?? null, action });
}

export async function login(email, password) {
  const r = await api('POST', '/api/session', { email, password });
  session.csrf = r.csrf;
  const me = await api('GET', '/api/me');
  setSession(me, r.csrf);
  return me;
}

export async function logout() {
  try { await api('DELETE', '/api/session'); } catch { /* the session may be gone already */ }
  setSession(null, null);
}

/* Who may do what, from the account. */
export const can = {
  login: () => !!session.me,
  home: () => !!(session.me && session.me.neighbourhood),
  member: () => !!(session.me && session.me.role === 'member'),
  shop: () => !!(session.me && session.me.role === 'shop'),
  staff: () => !!(session.me && (session.me.role === 'staff' || session.me.role === 'admin')),
};
