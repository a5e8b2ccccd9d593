// The CDK app's entry: `npm run infra -- synth` (or deploy, diff, …) runs it through the CDK CLI.
// Builds the function assets, reads the deployment configuration (CALLBRIDGE_DEPLOY_CONFIG, default
// infra/deploy.example.json, which synthesizes without an AWS account), and synthesizes. docs/deploy.md.
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { buildStacks } from './app.js';
import { buildAssets } from './assets.js';
import { DeployConfigError, loadDeploymentFile } from './config.js';
import { checkWithNag } from './nag.js';

/** The SMA asset's limit: a cold start parses it. */
const SMA_ASSET_LIMIT_BYTES = 1.5 * 1024 * 1024;

const configPath =
  process.env['CALLBRIDGE_DEPLOY_CONFIG'] ?? join(import.meta.dirname, 'deploy.example.json');
try {
  const deployment = loadDeploymentFile(configPath, bundledUseCases);
  const assets = await buildAssets();
  if (assets.smaBytes > SMA_ASSET_LIMIT_BYTES) {
    throw new Error(`the SMA asset is ${assets.smaBytes} bytes, over its 1.5 MB limit`);
  }
  // Cross-stack references (the table, secrets, SMA) are exports the consuming stack imports:
  // CloudFormation refuses to delete an export still in use.
  const app = new App({ context: { '@aws-cdk/core:defaultCrossStackReferences': 'strong' } });
  const stacks = buildStacks(app, deployment, {
    sma: lambda.Code.fromAsset(assets.sma),
    customResources: lambda.Code.fromAsset(assets.customResources),
    connectContext: lambda.Code.fromAsset(assets.connectContext),
  });
  checkWithNag(app, stacks);
  app.synth();
} catch (err) {
  if (!(err instanceof DeployConfigError)) throw err;
  console.error(`${configPath}: ${err.message}`);
  process.exit(2);
}
