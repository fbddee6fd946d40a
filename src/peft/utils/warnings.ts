// Warnings for recoverable configuration problems (PEFT uses Python's warnings.warn for these).
// By default they go to process.emitWarning; setWarningHandler redirects them (tests, quiet CLIs).

export type WarningHandler = (message: string) => void;

const emit: WarningHandler = (message) => process.emitWarning(message, { type: 'PeftWarning' });
let handler: WarningHandler = emit;

/** Routes PEFT warnings to `h` (null restores the default); returns the previous handler. */
export function setWarningHandler(h: WarningHandler | null): WarningHandler {
  const previous = handler;
  handler = h ?? emit;
  return previous;
}

export function warn(message: string): void {
  handler(message);
}
