// Which bundle locations a link may point the page at. `?model=` / `?index=` come from whoever made
// the link, so a shared URL could make the page load (and show as this site's results) another
// site's documents: the page's config lists where bundles may come from (allowBundlesFrom), by
// default its own origin only. No DOM here: unit-tested in tests/browserHardeningBundleSource.test.ts.

/** One allowed place: a whole origin, or a folder on one (a path prefix ending in '/'). */
interface AllowedPlace {
  origin: string;
  /** '/' for the whole origin. */
  pathPrefix: string;
}

export type BundleSource = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The allow-list entries as places; relative entries resolve against the page. An entry that is
 * not an http(s) URL is dropped (and listed in `invalid`, for a console warning).
 */
export function parseAllowList(entries: readonly string[] | undefined, pageUrl: string): { places: AllowedPlace[]; invalid: string[] } {
  const page = new URL(pageUrl);
  if (entries === undefined) return { places: [{ origin: page.origin, pathPrefix: '/' }], invalid: [] };
  const places: AllowedPlace[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    let u: URL;
    try {
      u = new URL(entry, page);
    } catch {
      invalid.push(entry);
      continue;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) {
      invalid.push(entry);
      continue;
    }
    // A prefix matches whole path segments: "/bundles" allows /bundles/… but not /bundles-old/….
    const pathPrefix = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
    places.push({ origin: u.origin, pathPrefix });
  }
  return { places, invalid };
}

/** The places as a person reads them, for the refusal message. */
export function describeAllowList(places: readonly AllowedPlace[], pageUrl: string): string {
  const own = new URL(pageUrl).origin;
  if (places.length === 0) return 'nowhere (allowBundlesFrom is empty)';
  return places
    .map((p) => `${p.origin}${p.pathPrefix === '/' ? '' : p.pathPrefix}${p.origin === own && p.pathPrefix === '/' ? ' (this site)' : ''}`)
    .join(', ');
}

/**
 * A bundle folder URL from the page's address (`what`: "model" or "index"), resolved against the
 * page: accepted when it is http(s), carries no credentials and lies in an allowed place.
 */
export function checkBundleParam(what: string, value: string, pageUrl: string, places: readonly AllowedPlace[]): BundleSource {
  let u: URL;
  try {
    u = new URL(value, pageUrl);
  } catch {
    return { ok: false, reason: `?${what}= is not a URL: ${JSON.stringify(value)}` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, reason: `?${what}= must be an http(s) URL, not ${u.protocol}` };
  if (u.username || u.password) return { ok: false, reason: `?${what}= must not carry a user name or password` };
  // The URL parser has already resolved "." and ".." segments (encoded ones too), so the path
  // compared is the one fetched.
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  const allowed = places.some((p) => p.origin === u.origin && path.startsWith(p.pathPrefix));
  if (!allowed) return { ok: false, reason: `this page loads bundles only from ${describeAllowList(places, pageUrl)}; ?${what}= points at ${u.href}` };
  return { ok: true, url: u.href };
}
