// The deployment the infra tests synthesize: the example configuration, with stand-in code (the
// real assets are built by `npm run infra -- synth`, not by unit tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { buildStacks, type CallbridgeStacks } from '../../../infra/app.js';
import { loadDeployment, type Deployment } from '../../../infra/config.js';

export const EXAMPLE_CONFIG_PATH = join(import.meta.dirname, '../../../infra/deploy.example.json');

/** A fresh copy of the example configuration, to change one field at a time. */
export function exampleConfig(): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
}

export function deploymentOf(raw: unknown): Deployment {
  return loadDeployment(raw, bundledUseCases);
}

export function synthStacks(raw: unknown = exampleConfig()): CallbridgeStacks {
  const code = lambda.Code.fromInline('export const handler = async () => ({});');
  return buildStacks(new App(), deploymentOf(raw), {
    sma: code,
    customResources: code,
    connectContext: code,
  });
}

export type StackName = keyof CallbridgeStacks;

/**
 * Synthesizes the app once and reads each stack's template from the assembly (Template.fromStack
 * would synthesize the whole app again for every stack).
 */
export function synthTemplates(raw: unknown = exampleConfig()): {
  stacks: CallbridgeStacks;
  templates: Partial<Record<StackName, Template>>;
} {
  const code = lambda.Code.fromInline('export const handler = async () => ({});');
  const app = new App();
  const stacks = buildStacks(app, deploymentOf(raw), {
    sma: code,
    customResources: code,
    connectContext: code,
  });
  const assembly = app.synth();
  const templates = Object.fromEntries(
    Object.entries(stacks).map(([key, stack]) => [
      key,
      Template.fromJSON(
        assembly.getStackByName(stack.stackName).template as Record<string, unknown>,
      ),
    ]),
  );
  return { stacks, templates };
}

export { bundledUseCases };
