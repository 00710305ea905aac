// Page behaviour: GOV.UK Frontend components, then pan and zoom for every picture, and search as
// you type on every name box.
import { initAll } from './govuk-frontend.min.js'
import { initPicture } from './picture.js'
import { initFind } from './find.js'

initAll()

for (const element of document.querySelectorAll('.app-picture')) {
  initPicture(element)
}
for (const element of document.querySelectorAll('.app-find[data-find]')) {
  initFind(element)
}
