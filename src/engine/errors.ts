// Typed errors raised by the engine. Each names the op and, where it applies, the argument.

export class PeftjsError extends Error {
  override name = 'PeftjsError';
}

export class EngineError extends PeftjsError {
  override name = 'EngineError';
  constructor(
    readonly op: string,
    readonly arg: string | undefined,
    detail: string,
  ) {
    super(arg === undefined ? `${op}: ${detail}` : `${op}: argument '${arg}' ${detail}`);
  }
}

export class ShapeError extends EngineError {
  override name = 'ShapeError';
}

export class DTypeError extends EngineError {
  override name = 'DTypeError';
}

export class IndexError extends EngineError {
  override name = 'IndexError';
}

export class DisposedTensorError extends EngineError {
  override name = 'DisposedTensorError';
}
