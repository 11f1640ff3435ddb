// What every test page does last: put its functions on window for the spec's page.evaluate, raise
// the ready flag the spec waits for, and say "ready" on the page.
export function exposeHarness(functions: Record<string, unknown>, readyFlag: string): void {
  Object.assign(window, functions, { [readyFlag]: true });
  const status = document.getElementById('status');
  if (status) status.textContent = 'ready';
}
