import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCENARIO,
  SCENARIO_DIR,
  ScenarioError,
  loadScenario,
  parseScenario,
} from '../../../lab/caller/scenario.js';

const minimal = (steps: string) =>
  `name: t\ndescription: a test\nsteps:\n${steps
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;

describe('scenario files', () => {
  it('every bundled scenario is valid and named after its file', () => {
    const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain(`${DEFAULT_SCENARIO}.yaml`);
    for (const f of files)
      expect(loadScenario(f.replace(/\.yaml$/, '')).name).toBe(f.replace(/\.yaml$/, ''));
  });

  it('fills in the defaults a caller would assume', () => {
    const s = parseScenario(
      minimal('- say: hello\n  then: { hears: agent, withinMs: 5000 }\n- hangUp: {}'),
      't.yaml',
    );
    expect(s.queueAnswers).toBe(true);
    expect(s.voice).toBe('rms');
    expect(s.steps[0]).toEqual({
      say: 'hello',
      afterQuietMs: 800,
      repeatIfNotHeard: true,
      then: { hears: 'agent', atLeastMs: 1000, withinMs: 5000 },
    });
    expect(s.steps[1]).toEqual({ hangUp: { afterMs: 0 } });
  });

  it('names every problem with its place in the file', () => {
    const text = [
      'name: Bad Name',
      'description: x',
      'caller: "2065550100"',
      'steps:',
      '  - say: ""',
      '  - listen: { hears: robot, withinMs: 100 }',
      '  - pause: -5',
      '  - dance: true',
    ].join('\n');
    let message = '';
    try {
      parseScenario(text, 'bad.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^bad\.yaml: not a valid scenario/);
    for (const where of ['name:', 'caller:', 'steps.0', 'steps.1', 'steps.2', 'steps.3'])
      expect(message).toContain(`  ${where}`);
  });

  it('rejects what it does not understand instead of ignoring it', () => {
    expect(() => parseScenario(minimal('- pause: 100\n  typo: 1'), 't.yaml')).toThrow(
      ScenarioError,
    );
    expect(() =>
      parseScenario(minimal('- listen: { hears: agent, withinMs: 100, atleastMs: 5 }'), 't.yaml'),
    ).toThrow(/steps\.0/);
  });

  it('says which file is missing or not YAML', () => {
    expect(() => loadScenario('no-such-scenario')).toThrow(/no-such-scenario: no such file/);
    expect(() => parseScenario('steps: [', 'broken.yaml')).toThrow(/broken\.yaml: not valid YAML/);
  });
});
