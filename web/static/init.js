// Loaded as the first thing in <body>. Does what GOV.UK Frontend's inline snippet does, from a file,
// because the Content Security Policy forbids inline scripts: marks the page as having JavaScript, and
// as supporting GOV.UK Frontend's ES module components when the browser supports modules.
document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
}
