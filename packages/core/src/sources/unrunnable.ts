/**
 * Functions of a template that cannot run here (no code, a retired runtime, code only a
 * deployment knows, a container image, …). Real templates often have one such function among
 * many: it is left out instead of failing the whole load, listed in one line at setup, and every
 * invoke of it fails with the error that says why and what to set.
 */
import { LambdaTestkitError } from '../errors.ts';

export interface UnrunnableFunction {
  /** The name it would have had (logical id, or `Parent/Child/Function` in a nested stack). */
  name: string;
  /** The other names it would have answered to. */
  aliases: string[];
  /** What an invoke of it fails with: the load error, saying why and what to set. */
  error: LambdaTestkitError;
  /** A few words on why, for the setup's summary line. */
  reason: string;
}

/** The first sentence of a message, without the function's label, short enough for a list. */
function firstSentence(message: string): string {
  const sentence = message.split(/\.(?:\s|$)/)[0] ?? message;
  const unlabeled = sentence.replace(/^(?:SAM|CDK) function "[^"]*" \([^)]*\)(?::\s*| )/, '');
  return unlabeled.length > 140 ? `${unlabeled.slice(0, 137)}...` : unlabeled;
}

/** Turns a per-function load error into the entry for that function. */
export function unrunnable(name: string, aliases: readonly string[], cause: unknown): UnrunnableFunction {
  if (!(cause instanceof LambdaTestkitError)) throw cause;
  const reason =
    typeof cause.details.reason === 'string' ? cause.details.reason : firstSentence(cause.message);
  const error = new (cause.constructor as typeof LambdaTestkitError)(
    cause.code,
    `Function "${name}" was left out when its template was loaded: it cannot run here. ${cause.message}`,
    { cause, details: { ...cause.details, function: name, leftOut: true } },
  );
  return { name, aliases: [...aliases], error, reason };
}

/**
 * The one line the setup prints for the functions left out, or undefined when none was:
 * `2 functions cannot run here and were left out: Legacy (LTK_UNSUPPORTED_RUNTIME: …), …`.
 */
export function unrunnableSummary(functions: readonly UnrunnableFunction[]): string | undefined {
  if (functions.length === 0) return undefined;
  const listed = functions.map((f) => `${f.name} (${f.error.code}: ${f.reason})`).join('; ');
  const count = functions.length === 1 ? '1 function cannot' : `${functions.length} functions cannot`;
  return (
    `${count} run here and ${functions.length === 1 ? 'was' : 'were'} left out: ${listed}. ` +
    'Invoking one fails with that code and what to set (sam.overrides / cdk.overrides); the others run.'
  );
}
