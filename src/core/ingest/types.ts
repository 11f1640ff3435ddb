// What the ingesters produce: source documents made of sections (a heading with its anchor and
// the text under it). A JSONL record is one document with one section; a web page has one
// section per heading.

export interface Section {
  /** Heading text ("" for text before the first heading, and for JSONL / plain text). */
  heading: string;
  /** The nearest heading anchor (an HTML id) at or above this section; "" when there is none. */
  anchor: string;
  text: string;
}

export interface SourceDoc {
  id: string;
  title: string;
  /** "" when the document has no URL. */
  url: string;
  sections: Section[];
  /** Extra JSON data (JSONL keys other than id, title, text, url). */
  fields?: Record<string, unknown>;
  /** Filter values and sort keys (HTML data-hypencoder-filter / -sort, JSONL --filter-field / --sort-field). */
  facets?: FacetValues;
  /** Where it came from, for messages: `file:line` or a file path. */
  where: string;
}

/** One document's filter values (key → values, each once) and sort values (key → value). */
export interface FacetValues {
  filters: Record<string, string[]>;
  sort: Record<string, string>;
}
