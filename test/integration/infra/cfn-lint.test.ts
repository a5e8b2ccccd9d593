// cfn-lint (AWS's CloudFormation linter, pinned in scripts/setup/requirements-test.txt) over every
// synthesized template, in the region its stack deploys to; and the regions the configuration
// accepts held against cfn-lint's per-region resource types, both ways.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGIONS_WITHOUT_CHIME_TYPES, SUPPORTED_REGIONS } from '../../../infra/config.js';
import { deploymentOf, exampleConfig, synthTemplates } from '../../unit/infra/fixtures.js';
import { runTool } from '../../unit/infra/tools.js';

/**
 * Acknowledged, with the reason: W3005 (a DependsOn that a GetAtt already implies). CDK's Function
 * and Provider constructs list a function's role in its DependsOn beside the role's policy, though
 * the GetAtt of the role already orders it: redundant, harmless, CDK's output rather than ours.
 */
const IGNORED = ['W3005'];

const lint = (dir: string, regions: string[], files: string[]) =>
  runTool(
    'cfn-lint',
    [
      '--format',
      'parseable',
      '--regions',
      ...regions,
      '--ignore-checks',
      ...IGNORED,
      '--',
      ...files,
    ],
    {
      cwd: dir,
    },
  );

describe('cfn-lint over the synthesized templates', () => {
  let dir: string;
  let byRegion: Map<string, string[]>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callbridge-cfn-'));
    const { stacks, templates } = synthTemplates();
    byRegion = new Map();
    for (const [key, template] of Object.entries(templates)) {
      const file = `${key}.json`;
      writeFileSync(join(dir, file), JSON.stringify(template!.toJSON(), null, 1));
      const region = stacks[key as keyof typeof stacks]!.region;
      byRegion.set(region, [...(byRegion.get(region) ?? []), file]);
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds nothing in any stack, in the region it deploys to', () => {
    expect([...byRegion.values()].flat().sort()).toEqual(
      [
        'callControl.json',
        'connect.json',
        'data.json',
        'observability.json',
        'workloads.json',
      ].sort(),
    );
    for (const [region, files] of byRegion) {
      const { status, output } = lint(dir, [region], files);
      expect(output, region).toBe('');
      expect(status, region).toBe(0);
    }
  });

  it('finds the Chime types in every region the configuration accepts, and in none it refuses', () => {
    const accepted = SUPPORTED_REGIONS.filter((r) => !REGIONS_WITHOUT_CHIME_TYPES.includes(r));
    const ok = lint(dir, accepted, ['callControl.json']);
    expect(ok.output).toBe('');
    for (const region of REGIONS_WITHOUT_CHIME_TYPES) {
      const refused = lint(dir, [region], ['callControl.json']);
      expect(refused.output).toContain(`E3006`);
      expect(refused.output).toContain(
        `'AWS::Chime::SipMediaApplication' does not exist in '${region}'`,
      );
    }
  });

  it('refuses such a region with a clear message before anything is synthesized', () => {
    const raw = exampleConfig();
    (raw['aws'] as Record<string, unknown>)['region'] = REGIONS_WITHOUT_CHIME_TYPES[0];
    delete raw['connect'];
    expect(() => deploymentOf(raw)).toThrow(
      /aws\.region: us-west-2 has Chime SDK PSTN audio, but its CloudFormation has no AWS::Chime::SipMediaApplication/,
    );
  });

  it("cfn-lint's findings fail the check (an unknown property)", () => {
    const bad = {
      Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicNam: 'x' } } },
    };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    const { status, output } = lint(dir, ['us-east-1'], ['bad.json']);
    expect(status).not.toBe(0);
    expect(output).toContain('E3002');
  });
});
