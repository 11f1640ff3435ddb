// Filters and sorting in the search view (view.ts): one group of checkboxes per filter key, each
// value with the number of pages it leaves (the engine's facet counts, src/core/facets.ts), and a
// sort menu for the index's sort keys. Shown only for an index that has them. Values are text nodes.
import type { FacetCounts, FacetOverview, FilterSelection, SortOrder } from '../lib/search.ts';
import { el } from './dom.ts';

/** Values shown per key before "more": a long tag list stays a short panel. */
const SHOWN_VALUES = 12;

export interface FacetPanel {
  readonly element: HTMLElement;
  /** The values ticked, per key. */
  selection(): FilterSelection;
  sort(): SortOrder | null;
  /** The counts of the latest answer (values it counted 0 show 0, and stay tickable); none: every page's (no query). */
  update(counts: FacetCounts | undefined): void;
}

/** `ticked`: values checked from the start (the search page's own language, view.ts). */
export function facetPanel(overview: FacetOverview, id: string, onChange: () => void, ticked: FilterSelection = {}): FacetPanel | null {
  const keys = Object.keys(overview.filters);
  if (keys.length === 0 && overview.sortKeys.length === 0) return null;
  const boxes = new Map<string, Map<string, { input: HTMLInputElement; count: HTMLElement }>>();
  const groups = keys.map((key, g) => {
    // Values by how many pages have them, most first; ties by name.
    const values = Object.entries(overview.filters[key]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const byValue = new Map<string, { input: HTMLInputElement; count: HTMLElement }>();
    boxes.set(key, byValue);
    const items = values.map(([value, n], i) => {
      const input = el('input', { type: 'checkbox', value, checked: ticked[key]?.includes(value) ?? false, dataset: { testid: 'facet-value', key } });
      input.addEventListener('change', onChange);
      const count = el('span', { className: 'facet-count' }, `(${n})`);
      byValue.set(value, { input, count });
      return el('label', { className: 'facet', hidden: i >= SHOWN_VALUES }, input, el('span', {}, value), count);
    });
    const more =
      values.length > SHOWN_VALUES
        ? el('button', {
            type: 'button',
            className: 'facet-more',
            textContent: `${values.length - SHOWN_VALUES} more`,
            onclick: (e: MouseEvent) => {
              for (const it of items) it.hidden = false;
              (e.currentTarget as HTMLElement).remove();
            },
          })
        : null;
    return el('fieldset', { className: 'facet-group', id: `${id}-facet-${g}` }, el('legend', {}, key), ...items, ...(more ? [more] : []));
  });
  const sortSelect = overview.sortKeys.length
    ? el(
        'select',
        { dataset: { testid: 'sort' }, onchange: onChange },
        el('option', { value: '' }, 'Relevance'),
        ...overview.sortKeys.flatMap((key) => [el('option', { value: `${key}:asc` }, `${key} ↑`), el('option', { value: `${key}:desc` }, `${key} ↓`)]),
      )
    : null;
  const sortLabel = sortSelect ? el('label', { className: 'sort' }, 'Sort by ', sortSelect) : null;
  const element = el('div', { className: 'facets', dataset: { testid: 'facets' } }, ...groups, ...(sortLabel ? [sortLabel] : []));
  return {
    element,
    selection() {
      const out: FilterSelection = {};
      for (const [key, byValue] of boxes) {
        const ticked = [...byValue].filter(([, b]) => b.input.checked).map(([v]) => v);
        if (ticked.length) out[key] = ticked;
      }
      return out;
    },
    sort() {
      const v = sortSelect?.value;
      if (!v) return null;
      const at = v.lastIndexOf(':');
      return { by: v.slice(0, at), order: v.slice(at + 1) as SortOrder['order'] };
    },
    update(counts = overview.filters) {
      for (const [key, byValue] of boxes) for (const [value, b] of byValue) b.count.textContent = `(${counts[key]?.[value] ?? 0})`;
    },
  };
}
