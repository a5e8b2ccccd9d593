// npm run infra:livekit [-- --out DIR]: writes the LiveKit side's configuration (render.ts) for
// the deployment configuration of CALLBRIDGE_DEPLOY_CONFIG (default infra/deploy.example.json)
// into DIR (default dist/livekit). docs/deploy.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { DeployConfigError, loadDeploymentFile } from '../config.js';
import { renderLivekitFiles } from './render.js';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = values.out ?? join(root, 'dist', 'livekit');
const configPath =
  process.env['CALLBRIDGE_DEPLOY_CONFIG'] ?? join(root, 'infra', 'deploy.example.json');
try {
  const { config } = loadDeploymentFile(configPath, bundledUseCases);
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(renderLivekitFiles(config, `${config.name}-calls`))) {
    writeFileSync(join(out, name), text);
    process.stdout.write(`${join(out, name)}\n`);
  }
} catch (err) {
  if (!(err instanceof DeployConfigError)) throw err;
  console.error(`${configPath}: ${err.message}`);
  process.exit(2);
}
