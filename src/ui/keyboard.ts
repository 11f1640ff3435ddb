// The search view's keyboard: ↓ from the box into the results, ↑/↓/Home/End through them, Enter
// opens a hit, Escape goes back to the box (and in the box clears it, through `onClear`).

export function bindResultKeys(input: HTMLInputElement, results: HTMLElement, onClear: () => void): void {
  const hits = (): HTMLElement[] => Array.from(results.querySelectorAll<HTMLElement>('[data-testid="hit"]'));
  function focusHit(i: number): void {
    const all = hits();
    if (all.length === 0) return;
    all[Math.max(0, Math.min(all.length - 1, i))].focus();
  }
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && hits().length) {
      e.preventDefault();
      focusHit(0);
    } else if (e.key === 'Escape') {
      e.preventDefault(); // also stops the search input's own clearing, so state stays in step
      onClear();
    }
  });
  results.addEventListener('keydown', (e) => {
    const li = (e.target as HTMLElement).closest<HTMLElement>('[data-testid="hit"]');
    if (!li) return;
    const all = hits();
    const i = all.indexOf(li);
    switch (e.key) {
      case 'ArrowDown':
        focusHit(i + 1);
        break;
      case 'ArrowUp':
        if (i === 0) input.focus();
        else focusHit(i - 1);
        break;
      case 'Home':
        focusHit(0);
        break;
      case 'End':
        focusHit(all.length - 1);
        break;
      case 'Escape':
        input.focus();
        input.select();
        break;
      case 'Enter':
        if (e.target === li)
          li.querySelector('a')?.click(); // on the link itself the browser follows it
        else return;
        break;
      default:
        return;
    }
    e.preventDefault();
  });
}
