// The names of the cookies that say who is logged in, or bind a person's forms to their
// browser. Under an https ISSUER they start with __Host-, which browsers keep only for a
// cookie that is Secure, for Path=/ and without a Domain (RFC 6265bis 4.1.3.2): no other
// host of the company's domain (a blog, a shop, anything on a sibling subdomain) can set
// or replace one. Without it such a host could plant ("toss") an attacker's own session in
// a person's browser, and the next login at any app would quietly be the attacker's (login
// CSRF through single sign-on). Over http (dev mode, a lab) browsers refuse the prefix,
// which needs Secure: the plain name.

/** `name` as the cookie is called under this ISSUER (`https`): __Host-name, or `name` as it is. */
export function hostOnlyName(name: string, https: boolean): string {
  return https ? `__Host-${name.replace(/^_+/, '')}` : name;
}
