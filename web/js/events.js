/*
 * events.js — the one channel through which the page learns that data has
 * changed. Whoever changes something (a form, a button, the API client when
 * the session ends) calls changed(); whatever shows that data (the map's
 * tiles, the needs list, My posts, the masks tab…) subscribes with on().
 * Neither side knows the other, so the server's live stream (live.js) only
 * has to call changed() with the same events for the page to follow the
 * changes others make.
 *
 * An event is {kind, id, action}: `kind` says what changed, `id` which one
 * (null when the kind has none), `action` what happened to it:
 *
 *   kind        id                 actions
 *   post        the post's         create, edit, claim, release, done, cancel,
 *                                  hide, restore; stale (the page found the
 *                                  post changed by someone else, e.g. a claim
 *                                  that came too late)
 *   report      the post's         create (a member reported it), dismiss
 *                                  (staff dismissed its reports)
 *   shop        the shop's         create, edit
 *   shop_claim  the claim's        create (a shop account asked to manage a
 *                                  shop), approve, reject
 *   maker       the maker's member edit (profile, stock, materials: the
 *                                  maker's materials post follows)
 *   order       the order's        create, status
 *   message     the post's         create (a message of its conversation)
 *   comment     the post's         create, edit, delete, hide, restore (made
 *                                  here); count (made elsewhere: the live
 *                                  stream says the post's comments changed)
 *   session     the member's, or   login, logout (also when the server ended
 *               null               the session), update (the same member,
 *                                  their account read again: a new home)
 *
 * A `comment` event may also carry `count`: the post's number of visible
 * comments after the change, when its source knows it. An id of null
 * means "any": the live stream lost track of changes (live.js, `reset`),
 * and whatever shows that kind reads it again.
 *
 * Handlers run synchronously, in the order they subscribed, each with the
 * event (frozen); one that throws does not stop the others (EventTarget's
 * rule: the error is reported, as any uncaught one). Changes come in bursts
 * (staff hide ten posts; a stream catches up): a handler whose work is
 * costly (fetching tiles, a list) should coalesce them — see coalesce().
 */

/* Every kind, and its actions: an event outside these is a programming error. */
const ACTIONS = Object.freeze({
  post: ['create', 'edit', 'claim', 'release', 'done', 'cancel', 'hide', 'restore', 'stale'],
  report: ['create', 'dismiss'],
  shop: ['create', 'edit'],
  shop_claim: ['create', 'approve', 'reject'],
  maker: ['edit'],
  order: ['create', 'status'],
  message: ['create'],
  comment: ['create', 'edit', 'delete', 'hide', 'restore', 'count'],
  session: ['login', 'logout', 'update'],
});

const bus = new EventTarget(); // one event type per kind

function checkKind(kind) {
  if (!Object.prototype.hasOwnProperty.call(ACTIONS, kind)) throw new TypeError(`events: unknown kind "${kind}"`);
}

/**
 * Announces one change to every handler of its kind (`count`: see above,
 * kept only when a number). Throws TypeError for an unknown kind or action.
 */
export function changed({ kind, id = null, action, count }) {
  checkKind(kind);
  if (!ACTIONS[kind].includes(action)) throw new TypeError(`events: unknown action "${action}" for ${kind}`);
  const detail = Number.isInteger(count) ? { kind, id, action, count } : { kind, id, action };
  bus.dispatchEvent(new CustomEvent(kind, { detail: Object.freeze(detail) }));
}

/**
 * Calls handler(event) for every change of a kind, or of any of a list of
 * kinds. Returns the function that unsubscribes it.
 */
export function on(kinds, handler) {
  const list = Array.isArray(kinds) ? kinds : [kinds];
  list.forEach(checkKind);
  const listener = (e) => handler(e.detail);
  for (const k of list) bus.addEventListener(k, listener);
  return () => { for (const k of list) bus.removeEventListener(k, listener); };
}

/**
 * A handler that runs `work` once for all the changes announced in one run
 * of the page's code (one microtask later), with the list of their events:
 * ten posts hidden in a loop fetch the tiles once.
 */
export function coalesce(work) {
  let queued = null;
  return (event) => {
    if (queued) { queued.push(event); return; }
    queued = [event];
    queueMicrotask(() => { const batch = queued; queued = null; work(batch); });
  };
}
