// MathJax settings for pymdownx.arithmatex (generic mode: \(...\) inline, \[...\] displayed) and for the
// notebooks' markdown cells ($...$, $$...$$). MathJax itself is vendored (javascripts/vendor/mathjax).
// Only those elements are typeset: the rest of a page is never scanned for TeX.
const MATH = ".arithmatex, .jp-RenderedMarkdown";

window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  },
  startup: {
    typeset: false
  }
};

document$.subscribe(() => {
  const elements = [...document.querySelectorAll(MATH)];
  if (!elements.length) return;
  MathJax.startup.promise.then(() => {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise(elements);
  });
});
