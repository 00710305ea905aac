// Search as you type on a name box: a list of matching names under the box, from /find.json.
// Every name box uses it: the leader's (web/templates/leader/_find.html) and the owners' and
// admins' form fields (an owner, a team, an edge's other end, the person an account is linked to).
// Without JavaScript the box is a plain text field and the server resolves the name typed; with
// it, the box becomes an ARIA 1.2 combobox (arrow keys move through the list, Enter picks, Escape
// closes) and a live region says how many names match.
//
// The input says what to ask: data-find (the URL), data-find-kinds (kinds, comma-separated),
// data-find-exclude (an id to leave out: the node an edge starts from) and data-find-group
// ("organisation": matches under a heading per organisation).

const WAIT_MS = 150
let boxes = 0

function kindWords (kind) {
  return kind === 'ai_tool' ? 'AI tool' : kind.replace('_', ' ')
}

function byOrganisation (matches) {
  const groups = new Map()
  for (const match of matches) {
    const name = match.organisation || 'No organisation'
    if (!groups.has(name)) groups.set(name, [])
    groups.get(name).push(match)
  }
  return groups
}

export function initFind (input) {
  let wrapper = input.parentElement
  if (!wrapper.classList.contains('app-find')) {
    wrapper = document.createElement('div')
    wrapper.className = 'app-find'
    input.before(wrapper)
    wrapper.append(input)
  }
  const list = document.createElement('div')
  const status = document.createElement('div')
  const listId = `${input.id || `find-${++boxes}`}-options`
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
  input.setAttribute('autocomplete', 'off')

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
    all[active].scrollIntoView({ block: 'nearest' })
  }
  const choose = (option) => {
    input.value = option.dataset.value
    close()
    status.textContent = `${option.dataset.name} chosen`
    input.focus()
    input.dispatchEvent(new Event('change', { bubbles: true }))
  }

  const option = (match, i, named, grouped) => {
    const item = document.createElement('div')
    item.id = `${listId}-${i}`
    item.className = 'app-find__option'
    item.setAttribute('role', 'option')
    item.setAttribute('aria-selected', 'false')
    // Two matches of the same name are told apart by id (the server takes an id as well as a name).
    item.dataset.value = named[match.name] > 1 ? match.id : match.name
    item.dataset.name = match.name
    const said = [kindWords(match.kind)]
    if (match.organisation && !grouped) said.push(match.organisation)
    const kind = document.createElement('span')
    kind.className = 'app-find__kind'
    kind.textContent = ` (${said.join(', ')})`
    item.append(document.createTextNode(match.name), kind)
    item.addEventListener('mousedown', (event) => { event.preventDefault(); choose(item) })
    return item
  }

  const show = (matches) => {
    list.replaceChildren()
    const named = {}
    for (const match of matches) named[match.name] = (named[match.name] || 0) + 1
    if (input.dataset.findGroup === 'organisation') {
      let i = 0
      let g = 0
      for (const [organisation, members] of byOrganisation(matches)) {
        const group = document.createElement('div')
        const heading = document.createElement('div')
        heading.id = `${listId}-group-${g++}`
        heading.className = 'app-find__group'
        heading.setAttribute('role', 'presentation')
        heading.textContent = organisation
        group.setAttribute('role', 'group')
        group.setAttribute('aria-labelledby', heading.id)
        group.append(heading, ...members.map((match) => option(match, i++, named, true)))
        list.append(group)
      }
    } else {
      list.append(...matches.map((match, i) => option(match, i, named, false)))
    }
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
    const url = new URL(input.dataset.find, window.location.href)
    url.searchParams.set('q', text)
    url.searchParams.set('limit', '8')
    if (input.dataset.findKinds) url.searchParams.set('kinds', input.dataset.findKinds)
    if (input.dataset.findExclude) url.searchParams.set('exclude', input.dataset.findExclude)
    if (input.dataset.findFor) url.searchParams.set('for', input.dataset.findFor)
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
