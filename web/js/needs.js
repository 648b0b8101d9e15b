/*
 * needs.js — the needs panel (requests and offers), in three modules wired
 * here:
 *   - needs_list.js: the list "near me" kept in step with the map, its
 *     filters, a visitor's counts, the posts of a group on the map;
 *   - needs_detail.js: one post, its actions and its conversation;
 *   - needs_form.js: the Post tab, publishing and the author's own posts.
 * The detail is the bottom one: the list and the form open posts through it;
 * what the detail's Back button does, and whom it tells when it has shown
 * something, it is told here.
 *
 * Here too is what the panel follows as a whole: the page's language, the
 * session (the panel starts again for the new account: the list, no post,
 * the form), and changes of data (events.js): a post changed, or a maker's
 * profile (a maker's materials post follows it), refreshes what the panel
 * shows, once for a burst of changes: the list; or, while a post is shown,
 * that post, when the change may be its own (the list is read again on
 * Back).
 *
 * `listReady` resolves once the panel first shows something (a list, the
 * visitor's counts, a post): main.js then counts the page as usable.
 */
import { onLang } from './i18n.js';
import { on, coalesce } from './events.js';
import * as list from './needs_list.js';
import * as detail from './needs_detail.js';
import * as form from './needs_form.js';

let markReady = null;
export const listReady = new Promise((resolve) => { markReady = resolve; });

export { openPost } from './needs_detail.js';

export function init() {
  detail.init({ back: list.back, shown: () => markReady() });
  list.init(() => markReady());
  form.init();
  onLang(() => {
    list.fillFilters();
    list.render();
    form.renderPostPane();
    if (detail.shownPost() !== null) detail.showPost(detail.shownPost());
  });
  on('session', () => {
    detail.forgetPost();
    list.sessionChanged();
    list.refresh();
    form.renderPostPane();
  });
  on(['post', 'maker'], coalesce((batch) => {
    const id = detail.shownPost();
    if (id === null) list.refresh();
    else if (batch.some((e) => e.kind === 'maker' || e.id === null || e.id === id)) detail.refreshPost(id);
  }));
  list.refresh();
  form.renderPostPane();
}
