/** The one warning about functions that declare another CPU than the machine's. */
import type { ResolvedFunction } from '../function-spec.ts';

/** This machine's CPU in Lambda's words (`x86_64`, `arm64`), or Node's name for any other. */
export function hostArchitecture(): string {
  if (process.arch === 'x64') return 'x86_64';
  return process.arch;
}

/**
 * Functions that declare another architecture than the machine's (SAM templates often say arm64)
 * run on the machine's CPU all the same: no backend emulates another one. Said once, because
 * native modules or binaries built for the declared CPU then fail to load, which would otherwise
 * look like a bug in the handler.
 */
export function architectureWarning(
  functions: readonly ResolvedFunction[],
  host: string,
): string | undefined {
  const foreign = functions.filter((fn) => fn.architecture !== host);
  if (foreign.length === 0) return undefined;
  const declared = [...new Set(foreign.map((fn) => fn.architecture))].join(' or ');
  const s = foreign.length === 1 ? 's' : '';
  return (
    `${foreign.map((fn) => fn.name).join(', ')} declare${s} ${declared} but run${s} on this ` +
    `machine's ${host} (lambda-testkit does not emulate another CPU): JavaScript behaves the same, native ` +
    `modules or binaries built for ${declared} will not load.`
  );
}
