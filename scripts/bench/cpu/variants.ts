// The pipelines a bench:cpu run alternates: a pipeline, and environment variables for its child.
import { PIPELINES, type Pipeline } from './summary.js';

export interface Variant {
  label: string;
  pipeline: Pipeline;
  env: Record<string, string>;
}

/** `callbridge` or `callbridge+NAME=VALUE+NAME2=VALUE2`. */
export function parseVariant(label: string): Variant {
  const [pipeline, ...sets] = label.split('+');
  if (!(PIPELINES as readonly string[]).includes(pipeline!)) {
    throw new Error(`unknown pipeline ${pipeline}: ${PIPELINES.join(', ')}`);
  }
  const env = Object.fromEntries(
    sets.map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) throw new Error(`not NAME=VALUE: ${kv}`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
  return { label, pipeline: pipeline as Pipeline, env };
}
