// cdk-nag's AWS Solutions rules over the synthesized app: no finding stands without its reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStacks, type CallbridgeStacks } from '../../../infra/app.js';
import { acknowledgements, checkWithNag } from '../../../infra/nag.js';
import { deploymentOf, exampleConfig } from './fixtures.js';

interface Report {
  pluginReports: {
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Synthesizes with the rules; the report's findings, or none. */
function nag(change?: (stacks: CallbridgeStacks) => void): { threw: boolean; findings: string[] } {
  const outdir = mkdtempSync(join(tmpdir(), 'callbridge-nag-'));
  dirs.push(outdir);
  const app = new App({ outdir });
  const code = lambda.Code.fromInline('export const handler = async () => ({});');
  const stacks = buildStacks(app, deploymentOf(exampleConfig()), {
    sma: code,
    customResources: code,
    connectContext: code,
  });
  change?.(stacks);
  checkWithNag(app, stacks);
  let threw = false;
  try {
    app.synth();
  } catch {
    threw = true;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
  const findings = report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`),
    ),
  );
  return { threw, findings };
}

// Both synthesized once, in the hook: the first synthesis of a file loads aws-cdk-lib (seconds).
let clean: ReturnType<typeof nag>;
let widened: ReturnType<typeof nag>;
beforeAll(() => {
  clean = nag();
  widened = nag((stacks) =>
    stacks.callControl.smaFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }),
    ),
  );
});

describe('cdk-nag (AWS Solutions)', () => {
  it('finds nothing unexplained in the deployment', () => {
    expect(clean).toEqual({ threw: false, findings: [] });
  });

  it('fails synthesis on a new finding', () => {
    const result = widened;
    expect(result.threw).toBe(true);
    expect(result.findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM5[Action::dynamodb:*] callbridge-call-control/SmaRole/DefaultPolicy/Resource',
      ]),
    );
  });

  it('gives every acknowledgement a reason', () => {
    const app = new App();
    const code = lambda.Code.fromInline('export const handler = async () => ({});');
    const stacks = buildStacks(app, deploymentOf(exampleConfig()), {
      sma: code,
      customResources: code,
      connectContext: code,
    });
    for (const acks of acknowledgements(stacks).values()) {
      for (const a of acks) expect(a.reason.length, a.id).toBeGreaterThan(40);
    }
  });
});
