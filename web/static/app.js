// Page behaviour: GOV.UK Frontend components, then pan and zoom for every picture, then the
// owners' and admins' form helpers (copy buttons, search-as-you-type name pickers).
import { initAll } from './govuk-frontend.min.js'
import { initPicture } from './picture.js'
import { initCopy, initPicker } from './owner.js'

initAll()

for (const element of document.querySelectorAll('.app-picture')) {
  initPicture(element)
}
for (const button of document.querySelectorAll('[data-module="app-copy"]')) {
  initCopy(button)
}
for (const input of document.querySelectorAll('[data-module="app-picker"]')) {
  initPicker(input)
}
