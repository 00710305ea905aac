// Page behaviour: GOV.UK Frontend components, then pan and zoom for every picture, search as you
// type on every name box, and copy buttons.
import { initAll } from './govuk-frontend.min.js'
import { initPicture } from './picture.js'
import { initFind } from './find.js'
import { initCopy } from './copy.js'

initAll()

// A picture folded for narrow screens (issue 14): the list and the text come first on a phone, and the
// picture is one tap away. It starts when first shown.
const narrow = window.matchMedia('(max-width: 40.0525em)')
for (const fold of document.querySelectorAll('details[data-fold-narrow]')) {
  if (narrow.matches) {
    fold.open = false
  }
  fold.addEventListener('toggle', () => {
    if (fold.open) {
      initPicture(fold.querySelector('.app-picture'))
    }
  })
}

for (const element of document.querySelectorAll('.app-picture')) {
  initPicture(element)
}
for (const input of document.querySelectorAll('input[data-find]')) {
  initFind(input)
}
for (const button of document.querySelectorAll('[data-module="app-copy"]')) {
  initCopy(button)
}
