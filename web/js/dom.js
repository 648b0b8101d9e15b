/*
 * dom.js — building DOM nodes without innerHTML. Every text that comes from
 * the server or a user goes through textContent, never through markup.
 */

/**
 * h('button.primary', {type: 'button', onclick: f}, 'Label', child, …)
 * The tag may carry an id after '#' and classes after dots ('h2#t.big'). Attributes starting with "on" are
 * listeners; `hidden`, `disabled`, `checked`, `selected` and `value` are set as
 * properties (`checked` and `selected` also as the defaults a form's reset()
 * returns to); null and false attributes are left out. Children may be strings,
 * nodes, arrays or null.
 */
export function h(tag, attrs, ...children) {
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const el = document.createElement(name || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'checked' || k === 'selected') el[k] = el['default' + k[0].toUpperCase() + k.slice(1)] = v;
    else if (k === 'hidden' || k === 'disabled' || k === 'value') el[k] = v;
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: h('label', …, text, control). */
export function field(label, control, hint) {
  return h('label', null, h('span', null, label), control, hint ? h('small', null, hint) : null);
}

/** Small inline SVG of a legend symbol: shape is circle|diamond|triangle|square. */
export function swatch(shape, fill, stroke, hollow) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 20 20');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  const paths = {
    circle: 'M10 3a7 7 0 1 0 0.01 0Z',
    diamond: 'M10 1.5 18.5 10 10 18.5 1.5 10Z',
    triangle: 'M10 2 18.5 17.5H1.5Z',
    square: 'M3 3H17V17H3Z',
  };
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', paths[shape]);
  p.setAttribute('fill', hollow ? '#ffffff' : fill);
  p.setAttribute('stroke', stroke);
  p.setAttribute('stroke-width', hollow ? '3' : '1.5');
  svg.append(p);
  return svg;
}
