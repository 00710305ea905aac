// Progressive enhancements for owners' and admins' forms. Every form works without them.
//
//   [data-module="app-copy"]    a button (hidden until this runs) that copies the text of the
//                               element named by data-copy-target, and says so in
//                               [data-copy-status] (aria-live).
//   [data-module="app-picker"]  a text input where a name is typed: as you type, names that
//                               match come from /api/linkable (data-picker-kinds,
//                               data-picker-exclude), grouped by organisation, in an ARIA
//                               combobox list; arrow keys move, Enter or a click chooses,
//                               Escape closes. Without this, the server finds the name typed.

const DELAY = 150 // ms of quiet typing before asking the server

export function initCopy (button) {
  const target = document.getElementById(button.dataset.copyTarget)
  const status = document.querySelector(`[data-copy-status="${button.dataset.copyTarget}"]`)
  if (!target || !navigator.clipboard) return
  button.hidden = false
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(target.textContent.trim())
      if (status) status.textContent = 'Copied.'
    } catch (error) {
      if (status) status.textContent = 'Could not copy: select the text and copy it.'
    }
  })
}

let pickers = 0

export function initPicker (input) {
  const id = `picker-${++pickers}`
  const list = document.createElement('div')
  list.id = `${id}-list`
  list.className = 'app-picker__list'
  list.setAttribute('role', 'listbox')
  list.setAttribute('aria-label', 'Names that match')
  list.hidden = true
  input.after(list)
  const status = document.createElement('p')
  status.className = 'govuk-visually-hidden'
  status.setAttribute('aria-live', 'polite')
  list.after(status)
  input.setAttribute('role', 'combobox')
  input.setAttribute('aria-autocomplete', 'list')
  input.setAttribute('aria-expanded', 'false')
  input.setAttribute('aria-controls', list.id)
  input.setAttribute('autocomplete', 'off')

  let options = []
  let active = -1
  let timer = null
  let asked = 0

  function close () {
    list.hidden = true
    input.setAttribute('aria-expanded', 'false')
    input.removeAttribute('aria-activedescendant')
    active = -1
  }

  function highlight (index) {
    options.forEach((option, at) => {
      option.setAttribute('aria-selected', at === index ? 'true' : 'false')
      option.classList.toggle('app-picker__option--active', at === index)
    })
    active = index
    if (index >= 0) {
      input.setAttribute('aria-activedescendant', options[index].id)
      options[index].scrollIntoView({ block: 'nearest' })
    } else {
      input.removeAttribute('aria-activedescendant')
    }
  }

  function choose (option) {
    input.value = option.dataset.value
    close()
    status.textContent = `${option.dataset.name} chosen.`
    input.dispatchEvent(new Event('change', { bubbles: true }))
  }

  function show (data) {
    list.replaceChildren()
    options = []
    const names = {}
    for (const match of data.matches) names[match.name] = (names[match.name] || 0) + 1
    for (const group of data.groups) {
      const box = document.createElement('div')
      box.setAttribute('role', 'group')
      const heading = document.createElement('div')
      heading.id = `${id}-g${list.children.length}`
      heading.className = 'app-picker__group govuk-body-s'
      heading.textContent = group.organisation
      heading.setAttribute('role', 'presentation')
      box.setAttribute('aria-labelledby', heading.id)
      box.append(heading)
      for (const match of group.matches) {
        const option = document.createElement('div')
        option.id = `${id}-o${options.length}`
        option.className = 'app-picker__option govuk-body'
        option.setAttribute('role', 'option')
        option.setAttribute('aria-selected', 'false')
        option.dataset.value = names[match.name] > 1 ? match.id : match.name
        option.dataset.name = match.name
        option.textContent = match.kind === 'person' ? match.name : `${match.name} (${match.kind.replace('_', ' ')})`
        option.addEventListener('mousedown', (event) => { event.preventDefault(); choose(option) })
        box.append(option)
        options.push(option)
      }
      list.append(box)
    }
    if (options.length) {
      list.hidden = false
      input.setAttribute('aria-expanded', 'true')
      status.textContent = `${options.length} name${options.length === 1 ? '' : 's'} match. Use the up and down arrows to choose.`
    } else {
      close()
      status.textContent = 'No names match.'
    }
    active = -1
  }

  async function ask () {
    const text = input.value.trim()
    if (!text) { close(); return }
    const query = new URLSearchParams({ q: text, kinds: input.dataset.pickerKinds || '' })
    if (input.dataset.pickerExclude) query.set('exclude', input.dataset.pickerExclude)
    const mine = ++asked
    try {
      const response = await fetch(`/api/linkable?${query}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      if (!response.ok || mine !== asked) return
      show(await response.json())
    } catch (error) {
      close() // the plain form still works: the server finds the name typed
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(ask, DELAY)
  })
  input.addEventListener('keydown', (event) => {
    if (list.hidden || !options.length) return
    if (event.key === 'ArrowDown') {
      event.preventDefault()
      highlight(Math.min(options.length - 1, active + 1))
    } else if (event.key === 'ArrowUp') {
      event.preventDefault()
      highlight(Math.max(0, active - 1))
    } else if (event.key === 'Enter' && active >= 0) {
      event.preventDefault()
      choose(options[active])
    } else if (event.key === 'Escape') {
      close()
    }
  })
  input.addEventListener('blur', () => setTimeout(close, 100))
}
