/** What every function source needs from `loadFunctionSpecs`. */
export interface SourceContext {
  /** Directory relative paths start at. */
  root: string;
  /** Value of `AWS::Region` in templates. */
  region: string;
  /** Value of `AWS::AccountId` in templates. */
  accountId: string;
  /** Where warnings go (one line per function with unresolved references). */
  warn: (message: string) => void;
}
