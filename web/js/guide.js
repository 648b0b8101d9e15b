/*
 * guide.js — the language switch of the guide page. Both languages are in
 * the page; CSS shows the one of <html lang>, chosen by boot.js.
 */
function show(lang) {
  document.documentElement.lang = lang;
  document.title = lang === 'fr' ? 'Entraide — guide des bonnes pratiques' : 'Entraide — good-practice guide';
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
}

show(window.entraideBoot.lang);
for (const b of document.querySelectorAll('[data-lang]')) {
  b.addEventListener('click', () => {
    try { localStorage.setItem('entraide.lang', b.dataset.lang); } catch { /* storage may be off */ }
    show(b.dataset.lang);
  });
}
