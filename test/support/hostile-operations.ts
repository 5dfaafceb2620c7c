// Operations a hostile client sent, reused by the unit and end-to-end tests of the operation limits.

/** `query { ...F0 } fragment F0 { ...F1 ...F1 } ... fragment F<n-1> { __typename }`: 2^(n-1) fields once expanded, under 40 bytes a fragment. */
export function doublingFragments(n: number, on = 'Query'): string {
  let query = 'query { ...F0 }';
  for (let i = 0; i < n; i++) query += ` fragment F${i} on ${on} { ${i < n - 1 ? `...F${i + 1} ...F${i + 1}` : '__typename'} }`;
  return query;
}

/** `count` aliases of a page of 100 products with 100 reviews each and their authors. */
export function aliasedPages(count: number): string {
  const page = 'products(first: 100) { edges { node { id reviews(first: 100) { edges { node { author { name } } } } } } }';
  return `{ ${Array.from({ length: count }, (_, i) => `p${i}: ${page}`).join(' ')} }`;
}

/** Products, their category's products, and so on: `levels` pages of 100 nested, 4 levels deep each. */
export function nestedPages(levels: number): string {
  let selection = 'name';
  for (let i = 0; i < levels; i++) selection = `products(first: 100) { edges { node { ${i === 0 ? selection : `category { ${selection} }`} } } }`;
  return `{ ${selection} }`;
}

/** `count` aliased logins in one mutation. */
export function aliasedLogins(count: number, email = 'alice@example.com', password = 'wrong-password'): string {
  return `mutation { ${Array.from({ length: count }, (_, i) => `l${i}: login(email: "${email}", password: "${password}") { token }`).join(' ')} }`;
}
