// Page behaviour: GOV.UK Frontend components, then pan and zoom for every picture.
import { initAll } from './govuk-frontend.min.js'
import { initPicture } from './picture.js'

initAll()

for (const element of document.querySelectorAll('.app-picture')) {
  initPicture(element)
}
