// The one place the CLI loads onnxruntime-node: optional (a machine without it still indexes
// lexically and verifies bundles), imported once, on first use.
export type OnnxRuntimeNode = typeof import('onnxruntime-node');

let loading: Promise<OnnxRuntimeNode | null> | undefined;

/** onnxruntime-node, or null when it is not installed. */
export function loadOnnxRuntimeNode(): Promise<OnnxRuntimeNode | null> {
  loading ??= import('onnxruntime-node').catch(() => null);
  return loading;
}
