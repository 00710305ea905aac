// A copy button (hidden until this runs: without JavaScript people select the text and copy it).
// [data-module="app-copy"] copies the text of the element named by data-copy-target, and says so
// in [data-copy-status] (a live region).

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
