// Pan and zoom for a lineage picture: an inline <svg> inside .app-picture__viewport.
//
// Works by changing the svg's viewBox, so the picture stays sharp and links inside it keep working.
//   Buttons   [data-picture-action="zoom-in|zoom-out|reset"] inside .app-picture__controls (hidden
//             until this runs).
//   Keyboard  on the focused viewport: arrow keys pan, + or = zoom in, - zoom out, 0 reset. Tabbing
//             to a link in the picture that is out of view pans to it.
//   Mouse     drag to pan; wheel zooms around the cursor only with Ctrl or Cmd held, so ordinary
//             scrolling still scrolls the page.
// Zoom changes are announced in .app-picture__status (aria-live="polite").

const MIN_ZOOM = 0.25
const MAX_ZOOM = 8
const STEP = 1.5 // zoom factor of one button press or key press
const PAN_FRACTION = 0.1 // share of the visible picture one arrow key press moves
const DRAG_THRESHOLD = 4 // pixels a pointer must move before a press becomes a drag
const ANNOUNCE_DELAY = 400 // ms of quiet before a zoom level is announced

const initialised = new WeakSet()

function clamp (value, low, high) {
  return Math.min(high, Math.max(low, value))
}

// The picture's own extent in user units: its viewBox, else its width and height, else its bounding box.
function baseBox (svg) {
  const vb = svg.viewBox && svg.viewBox.baseVal
  if (vb && vb.width > 0 && vb.height > 0) {
    return { x: vb.x, y: vb.y, width: vb.width, height: vb.height }
  }
  const width = svg.width && svg.width.baseVal ? svg.width.baseVal.value : 0
  const height = svg.height && svg.height.baseVal ? svg.height.baseVal.value : 0
  if (width > 0 && height > 0) {
    return { x: 0, y: 0, width, height }
  }
  try {
    const box = svg.getBBox()
    if (box.width > 0 && box.height > 0) {
      return { x: box.x, y: box.y, width: box.width, height: box.height }
    }
  } catch (error) {
    // Not rendered yet; fall through.
  }
  return null
}

// Pictures start at a readable size: one svg unit (Graphviz's point, the unit of its font sizes) to at
// least one screen pixel, so 14-unit labels are 14 px however wide the picture (issue 14: never below
// 12 px). A small picture may be drawn a little larger to fill the box; a large one is panned and zoomed
// inside it, starting at its left, where the records start.
const MIN_SCALE = 1
const MAX_SCALE = 1.25
const MAX_HEIGHT = 380
const MIN_HEIGHT = 160

function startScale (viewport, base) {
  const fit = Math.min(viewport.clientWidth / base.width, MAX_HEIGHT / base.height)
  return clamp(fit, MIN_SCALE, MAX_SCALE)
}

export function initPicture (element) {
  if (!element || initialised.has(element)) {
    return null
  }
  const viewport = element.querySelector('.app-picture__viewport')
  const svg = viewport && viewport.querySelector('svg')
  const base = svg && baseBox(svg)
  if (!base) {
    return null
  }
  if (!viewport.clientWidth) {
    return null // folded away (a closed <details>): app.js starts it when it is opened
  }
  initialised.add(element)
  const scale0 = startScale(viewport, base)
  viewport.style.height = Math.round(clamp(base.height * scale0, MIN_HEIGHT, MAX_HEIGHT)) + 'px'

  let status = element.querySelector('.app-picture__status')
  if (!status) {
    status = document.createElement('p')
    status.className = 'app-picture__status'
    status.setAttribute('aria-live', 'polite')
    element.appendChild(status)
  }

  // View state: zoom factor (1 is the readable start) and the centre of the view in the svg's user units.
  let zoom = 1
  let cx = 0
  let cy = 0
  let announceTimer = null

  // The start: the picture's left edge (where the records start), level with the focus if it is marked.
  const focus = svg.querySelector('[id^="focus-"]')
  let focusY = null
  try {
    const box = focus && focus.getBBox()
    const ctm = focus && svg.getCTM && focus.getCTM ? svg.getScreenCTM().inverse().multiply(focus.getScreenCTM()) : null
    if (box && ctm) {
      focusY = new DOMPoint(box.x + box.width / 2, box.y + box.height / 2).matrixTransform(ctm).y
    }
  } catch (error) {
    focusY = null
  }

  function home () {
    const width = viewport.clientWidth / scale0
    const height = viewport.clientHeight / scale0
    cx = width < base.width ? base.x + width / 2 : base.x + base.width / 2
    cy = height >= base.height ? base.y + base.height / 2
      : clamp(focusY === null ? base.y + height / 2 : focusY, base.y + height / 2, base.y + base.height - height / 2)
  }
  home()

  function render () {
    const width = viewport.clientWidth / (scale0 * zoom)
    const height = viewport.clientHeight / (scale0 * zoom)
    // Keep the centre of the view over the picture so it cannot be lost off-screen.
    cx = clamp(cx, base.x, base.x + base.width)
    cy = clamp(cy, base.y, base.y + base.height)
    svg.setAttribute('viewBox', [cx - width / 2, cy - height / 2, width, height].map((n) => +n.toFixed(3)).join(' '))
  }

  function announce () {
    clearTimeout(announceTimer)
    announceTimer = setTimeout(() => {
      status.textContent = `Zoom ${Math.round(zoom * 100)}%`
    }, ANNOUNCE_DELAY)
  }

  // Svg user units per screen pixel (the same on both axes: the viewBox keeps its aspect ratio).
  function unitsPerPixel () {
    const ctm = svg.getScreenCTM()
    return ctm && ctm.a ? 1 / ctm.a : 1 / (scale0 * zoom)
  }

  // Zoom by a factor, keeping the svg point (px, py) where it is on screen (default: the centre).
  function zoomBy (factor, px = cx, py = cy) {
    const next = clamp(zoom * factor, MIN_ZOOM, MAX_ZOOM)
    if (next === zoom) {
      announce()
      return
    }
    const ratio = zoom / next
    cx = px + (cx - px) * ratio
    cy = py + (cy - py) * ratio
    zoom = next
    render()
    announce()
  }

  function panBy (dx, dy) {
    cx += dx
    cy += dy
    render()
  }

  function reset () {
    zoom = 1
    home()
    render()
    announce()
  }

  // Buttons.
  const controls = element.querySelector('.app-picture__controls')
  if (controls) {
    controls.hidden = false
    controls.addEventListener('click', (event) => {
      const button = event.target.closest('[data-picture-action]')
      if (!button || !controls.contains(button)) {
        return
      }
      const action = button.getAttribute('data-picture-action')
      if (action === 'zoom-in') {
        zoomBy(STEP)
      } else if (action === 'zoom-out') {
        zoomBy(1 / STEP)
      } else if (action === 'reset') {
        reset()
      }
    })
  }

  // Keyboard.
  viewport.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return // leave browser zoom (Ctrl +) and other shortcuts alone
    }
    const stepX = viewport.clientWidth / (scale0 * zoom) * PAN_FRACTION
    const stepY = viewport.clientHeight / (scale0 * zoom) * PAN_FRACTION
    switch (event.key) {
      case 'ArrowLeft': panBy(-stepX, 0); break
      case 'ArrowRight': panBy(stepX, 0); break
      case 'ArrowUp': panBy(0, -stepY); break
      case 'ArrowDown': panBy(0, stepY); break
      case '+':
      case '=': zoomBy(STEP); break
      case '-': zoomBy(1 / STEP); break
      case '0': reset(); break
      default: return
    }
    event.preventDefault()
  })

  // Tabbing through the links inside a zoomed or panned picture: bring the focused one into view,
  // so keyboard focus never lands on a link clipped out of sight. Only for keyboard focus
  // (:focus-visible), so a mouse press on a link at the edge does not make the picture jump.
  viewport.addEventListener('focusin', (event) => {
    const target = event.target
    if (target === viewport || !svg.contains(target) || !target.matches(':focus-visible')) {
      return
    }
    // The browser may have scrolled the clipped viewport to reveal the focus; the viewBox does that here.
    viewport.scrollTop = 0
    viewport.scrollLeft = 0
    const view = viewport.getBoundingClientRect()
    const box = target.getBoundingClientRect()
    if (box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom) {
      return
    }
    const ctm = svg.getScreenCTM()
    if (!ctm) {
      return
    }
    const centre = new DOMPoint(box.left + box.width / 2, box.top + box.height / 2).matrixTransform(ctm.inverse())
    cx = centre.x
    cy = centre.y
    render()
  })

  // Mouse wheel, only with Ctrl or Cmd (also what trackpad pinch gestures send).
  viewport.addEventListener('wheel', (event) => {
    if (!(event.ctrlKey || event.metaKey)) {
      return
    }
    event.preventDefault()
    const pixels = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1)
    const ctm = svg.getScreenCTM()
    let px = cx
    let py = cy
    if (ctm) {
      const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse())
      px = point.x
      py = point.y
    }
    zoomBy(Math.exp(-clamp(pixels, -200, 200) * 0.003), px, py)
  }, { passive: false })

  // Dragging. A press only becomes a drag once the pointer has moved, so plain clicks on links work.
  let press = null
  let suppressClick = false

  viewport.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || !event.isPrimary) {
      return
    }
    press = { id: event.pointerId, x: event.clientX, y: event.clientY, dragging: false }
  })

  viewport.addEventListener('pointermove', (event) => {
    if (!press || event.pointerId !== press.id) {
      return
    }
    const dx = event.clientX - press.x
    const dy = event.clientY - press.y
    if (!press.dragging) {
      if (Math.hypot(dx, dy) < DRAG_THRESHOLD) {
        return
      }
      press.dragging = true
      viewport.classList.add('app-picture__viewport--dragging')
      try {
        viewport.setPointerCapture(event.pointerId)
      } catch (error) {
        // The pointer may already be gone; dragging still works while it is over the viewport.
      }
    }
    const scale = unitsPerPixel()
    panBy(-dx * scale, -dy * scale)
    press.x = event.clientX
    press.y = event.clientY
    event.preventDefault()
  })

  function endPress (event) {
    if (!press || event.pointerId !== press.id) {
      return
    }
    if (press.dragging) {
      suppressClick = event.type === 'pointerup'
      viewport.classList.remove('app-picture__viewport--dragging')
      if (viewport.hasPointerCapture && viewport.hasPointerCapture(event.pointerId)) {
        viewport.releasePointerCapture(event.pointerId)
      }
      // If no click follows (released outside a link, say), stop waiting for one.
      setTimeout(() => { suppressClick = false }, 0)
    }
    press = null
  }
  viewport.addEventListener('pointerup', endPress)
  viewport.addEventListener('pointercancel', endPress)

  // The click that ends a drag must not follow a link under the pointer.
  viewport.addEventListener('click', (event) => {
    if (suppressClick) {
      suppressClick = false
      event.preventDefault()
      event.stopPropagation()
    }
  }, true)

  // Stop the browser's own drag and drop of links and images inside the picture.
  viewport.addEventListener('dragstart', (event) => event.preventDefault())

  render()
  return { zoomBy, panBy, reset, get zoom () { return zoom } }
}
