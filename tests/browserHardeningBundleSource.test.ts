// Which ?model= / ?index= URLs the page accepts (src/ui/bundleSource.ts): within the config's
// allowBundlesFrom, by default the page's own origin only; http(s) only; relative ones resolved.
import { describe, expect, it } from 'vitest';
import { checkBundleParam, parseAllowList } from '../src/ui/bundleSource.ts';

const page = 'https://search.example.org/docs/?q=lift';

describe('checkBundleParam', () => {
  const own = parseAllowList(undefined, page).places;

  it('accepts the page origin by default, relative URLs resolved against the page', () => {
    expect(checkBundleParam('index', '/generated/demo/index/', page, own)).toEqual({ ok: true, url: 'https://search.example.org/generated/demo/index/' });
    expect(checkBundleParam('index', 'bundles/index', page, own)).toEqual({ ok: true, url: 'https://search.example.org/docs/bundles/index' });
    expect(checkBundleParam('model', 'https://search.example.org/m/', page, own).ok).toBe(true);
  });

  it('refuses another origin by default, naming what is allowed and what the link asked for', () => {
    const r = checkBundleParam('index', 'https://evil.example/index/', page, own);
    expect(r).toEqual({
      ok: false,
      reason: 'this page loads bundles only from https://search.example.org (this site); ?index= points at https://evil.example/index/',
    });
    // Another port, another scheme, another host spelling of the same machine: other origins.
    expect(checkBundleParam('index', 'https://search.example.org:8443/index/', page, own).ok).toBe(false);
    expect(checkBundleParam('index', 'http://search.example.org/index/', page, own).ok).toBe(false);
    expect(checkBundleParam('index', '//evil.example/index/', page, own).ok).toBe(false);
  });

  it('refuses URLs that are not http(s), or carry credentials', () => {
    expect(checkBundleParam('model', 'javascript:alert(1)', page, own)).toEqual({ ok: false, reason: '?model= must be an http(s) URL, not javascript:' });
    expect(checkBundleParam('model', 'data:application/json,{}', page, own).ok).toBe(false);
    expect(checkBundleParam('model', 'blob:https://search.example.org/1234', page, own).ok).toBe(false);
    expect(checkBundleParam('model', 'https://user:pw@search.example.org/m/', page, own)).toEqual({
      ok: false,
      reason: '?model= must not carry a user name or password',
    });
    expect(checkBundleParam('model', 'http://[::1', page, own)).toEqual({ ok: false, reason: '?model= is not a URL: "http://[::1"' });
  });

  it('matches a folder prefix by whole path segments, after resolving dot segments', () => {
    const { places } = parseAllowList(['/bundles', 'https://cdn.example.net/hyp/'], page);
    expect(checkBundleParam('index', '/bundles/demo/index/', page, places).ok).toBe(true);
    expect(checkBundleParam('index', '/bundles', page, places).ok).toBe(true);
    expect(checkBundleParam('index', 'https://cdn.example.net/hyp/v2/index/', page, places).ok).toBe(true);
    expect(checkBundleParam('index', '/bundles-old/index/', page, places).ok).toBe(false);
    expect(checkBundleParam('index', '/bundles/../private/index/', page, places).ok).toBe(false);
    expect(checkBundleParam('index', '/bundles/%2e%2e/private/index/', page, places).ok).toBe(false);
    expect(checkBundleParam('index', 'https://cdn.example.net/other/', page, places).ok).toBe(false);
    // The page's own origin is allowed only where the list says, once there is a list.
    expect(checkBundleParam('index', '/generated/demo/index/', page, places).ok).toBe(false);
  });

  it('takes origins as whole origins (no prefix match on the host name)', () => {
    const { places } = parseAllowList(['https://cdn.example.net'], page);
    expect(checkBundleParam('model', 'https://cdn.example.net/any/model/', page, places).ok).toBe(true);
    expect(checkBundleParam('model', 'https://cdn.example.net.evil.example/model/', page, places).ok).toBe(false);
  });
});

describe('parseAllowList', () => {
  it('drops entries that are not http(s) URLs and reports them', () => {
    const { places, invalid } = parseAllowList(['javascript:alert(1)', 'https://cdn.example.net', 'http://[::1', 'https://u:p@x.example/'], page);
    expect(places).toEqual([{ origin: 'https://cdn.example.net', pathPrefix: '/' }]);
    expect(invalid).toEqual(['javascript:alert(1)', 'http://[::1', 'https://u:p@x.example/']);
  });

  it('an empty list allows nothing', () => {
    const { places } = parseAllowList([], page);
    expect(checkBundleParam('index', '/generated/demo/index/', page, places)).toEqual({
      ok: false,
      reason: 'this page loads bundles only from nowhere (allowBundlesFrom is empty); ?index= points at https://search.example.org/generated/demo/index/',
    });
  });
});
