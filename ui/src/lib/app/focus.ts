/**
 * Where keyboard focus goes when the element that had it disappears (the welcome screen after "Get started",
 * the "Link a bank" button once a bank is linked and the dialog closes): to the page's primary action, the
 * one element per screen marked `data-primary-action`, instead of the document body, from which a keyboard
 * user would need several Tabs to get anywhere.
 */
export function focusIsLost(doc: Document = document): boolean {
  const active = doc.activeElement;
  return active === null || active === doc.body || !active.isConnected;
}

/** Focuses the screen's primary action; returns whether there was one. */
export function focusPrimaryAction(doc: Document = document): boolean {
  const target = doc.querySelector<HTMLElement>('[data-primary-action]:not([disabled])');
  target?.focus();
  return target !== null;
}
