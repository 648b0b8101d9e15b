/*
 * tests/e2e/axe.mjs — accessibility checks with axe-core (npm, pinned in
 * package.json) run inside the page under test. axe.min.js is evaluated in
 * the page once (through the DevTools protocol, which the page's
 * Content-Security-Policy does not govern: a <script> tag added to the page
 * would be refused, as it should be), then axe.run() checks the whole
 * document as it is at that moment: a dialog or a popup must be open when
 * the check runs for its content to be checked. Every rule axe runs by
 * default is kept (WCAG 2.x A and AA, best practices such as unique
 * landmarks), and a violation of any impact fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');

/**
 * The violations axe finds in the page now, each as
 * {id, impact, help, nodes: [{target, summary}]} (at most 5 nodes each, so
 * a report stays readable). Throws when axe-core is not installed.
 */
export async function axeViolations(page) {
  if (!fs.existsSync(AXE_PATH)) throw new Error('axe-core is missing from tests/e2e/node_modules: run `npm ci` in tests/e2e');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(fs.readFileSync(AXE_PATH, 'utf8'));
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300) })),
    }));
  });
}

/** One check: no axe violation on what is on screen, named by `what`. */
export async function axeCheck(page, check, what) {
  const v = await axeViolations(page);
  return check(`axe: no accessibility violation on ${what}` + (v.length ? ` (${v.map((x) => x.id).join(', ')})` : ''), v.length === 0, v);
}
