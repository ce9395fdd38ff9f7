/** The `{name}` path parameter, trimmed; a missing or blank name is a bug in the caller. */
export function parseName(raw: string | undefined): string {
  const name = raw?.trim();
  if (!name) {
    throw new TypeError('path parameter "name" is required');
  }
  return name;
}
