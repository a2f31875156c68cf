/**
 * The UI's side of the cold-start timeline (`make bench`): each step's wall-clock time, handed to the shell with
 * `overview_painted`, which prints them beside its own marks (src-tauri/src/startup.rs). Besides the steps marked
 * here, the browser's own timing: when the page's navigation started, its script arrived, the DOM was ready, and
 * WebKit's first (contentful) paint.
 */

/** One step, in ms since the Unix epoch (the shell's clock). */
export interface StartupMark {
  step: string;
  unixMs: number;
}

const marks: StartupMark[] = [];
const seen = new Set<string>();

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Records `step` the first time it happens. */
export function markStartup(step: string): void {
  if (seen.has(step)) return;
  seen.add(step);
  marks.push({ step, unixMs: now() });
}

/** The browser's timings of this page's load, then the marks in the order they happened. */
export function startupMarks(): StartupMark[] {
  const origin = performance.timeOrigin;
  const browser: StartupMark[] = [{ step: 'navigation', unixMs: origin }];
  const at = (step: string, ms: number | undefined) => {
    if (ms !== undefined && ms > 0) browser.push({ step, unixMs: origin + ms });
  };
  const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
  at('html-received', navigation?.responseEnd);
  for (const entry of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
    if (entry.name.endsWith('.js')) at('script-received', entry.responseEnd);
    if (entry.name.endsWith('.css')) at('css-received', entry.responseEnd);
  }
  at('dom-interactive', navigation?.domInteractive);
  for (const entry of performance.getEntriesByType('paint')) at(entry.name, entry.startTime);
  return [...browser, ...marks];
}
