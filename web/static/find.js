// Search as you type on a name box (web/templates/leader/_find.html): a list of matching names
// under the box, from /find.json. Without JavaScript the box is a plain text field and the page
// resolves the name itself; with it, the box becomes an ARIA 1.2 combobox (arrow keys move through
// the list, Enter picks, Escape closes) and a live region says how many names match.

const WAIT_MS = 150

export function initFind (wrapper) {
  const input = wrapper.querySelector('input')
  if (!input) return
  const list = document.createElement('ul')
  const status = document.createElement('div')
  const listId = `${input.id}-options`
  list.id = listId
  list.className = 'app-find__options'
  list.setAttribute('role', 'listbox')
  list.setAttribute('aria-label', 'Matching names')
  list.hidden = true
  status.className = 'govuk-visually-hidden'
  status.setAttribute('role', 'status')
  wrapper.append(list, status)
  input.setAttribute('role', 'combobox')
  input.setAttribute('aria-autocomplete', 'list')
  input.setAttribute('aria-expanded', 'false')
  input.setAttribute('aria-controls', listId)

  let timer = null
  let active = -1
  let latest = 0

  const options = () => Array.from(list.querySelectorAll('[role="option"]'))
  const close = () => {
    list.hidden = true
    active = -1
    input.setAttribute('aria-expanded', 'false')
    input.removeAttribute('aria-activedescendant')
  }
  const highlight = (index) => {
    const all = options()
    active = (index + all.length) % all.length
    all.forEach((option, i) => option.setAttribute('aria-selected', i === active ? 'true' : 'false'))
    input.setAttribute('aria-activedescendant', all[active].id)
  }
  const choose = (option) => {
    input.value = option.dataset.name
    close()
    input.focus()
  }

  const show = (matches) => {
    list.replaceChildren()
    matches.forEach((match, i) => {
      const option = document.createElement('li')
      option.id = `${listId}-${i}`
      option.className = 'app-find__option'
      option.setAttribute('role', 'option')
      option.setAttribute('aria-selected', 'false')
      option.dataset.name = match.name
      const kind = document.createElement('span')
      kind.className = 'app-find__kind'
      kind.textContent = ` (${match.kind.replace('_', ' ')}${match.organisation ? ', ' + match.organisation : ''})`
      option.append(document.createTextNode(match.name), kind)
      option.addEventListener('mousedown', (event) => { event.preventDefault(); choose(option) })
      list.append(option)
    })
    const count = matches.length
    status.textContent = count ? `${count} matching name${count === 1 ? '' : 's'}; use the arrow keys to choose` : 'No names match'
    if (count) {
      list.hidden = false
      input.setAttribute('aria-expanded', 'true')
    } else {
      close()
    }
  }

  const search = async () => {
    const text = input.value.trim()
    if (text.length < 2) { close(); return }
    const url = new URL(wrapper.dataset.find, window.location.href)
    url.searchParams.set('q', text)
    url.searchParams.set('limit', '8')
    if (wrapper.dataset.findKinds) url.searchParams.set('kinds', wrapper.dataset.findKinds)
    const asked = ++latest
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (!response.ok || asked !== latest) return
      const body = await response.json()
      show(body.matches || [])
    } catch (error) {
      close() // the plain form still works
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(search, WAIT_MS)
  })
  input.addEventListener('keydown', (event) => {
    const all = options()
    if (event.key === 'ArrowDown' && all.length) {
      event.preventDefault()
      if (list.hidden) { list.hidden = false; input.setAttribute('aria-expanded', 'true') }
      highlight(active + 1)
    } else if (event.key === 'ArrowUp' && all.length && !list.hidden) {
      event.preventDefault()
      highlight(active - 1)
    } else if (event.key === 'Enter' && !list.hidden && active >= 0) {
      event.preventDefault()
      choose(all[active])
    } else if (event.key === 'Escape') {
      close()
    }
  })
  input.addEventListener('blur', close)
}
