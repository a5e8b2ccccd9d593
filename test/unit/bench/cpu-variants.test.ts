import { describe, expect, it } from 'vitest';
import { mappedMemory } from '../../../scripts/bench/cpu/meters.js';
import { prewarmSteps } from '../../../scripts/bench/cpu/prewarm.js';
import { parseVariant } from '../../../scripts/bench/cpu/variants.js';

describe('parseVariant', () => {
  it('reads a pipeline and its environment when variables follow it', () => {
    expect(parseVariant('callbridge+A=1+B=x=y')).toEqual({
      label: 'callbridge+A=1+B=x=y',
      pipeline: 'callbridge',
      env: { A: '1', B: 'x=y' },
    });
  });

  it('throws when the pipeline is unknown or a setting has no name', () => {
    expect(() => parseVariant('other')).toThrow(/unknown pipeline/);
    expect(() => parseVariant('stock+=1')).toThrow(/NAME=VALUE/);
  });
});

describe('mappedMemory', () => {
  it('sums only the mappings whose path matches when others come between', () => {
    const smaps = [
      '7f00-7f10 r--p 00000000 08:01 12 /repo/.tools/moonshine/tiny-en/encoder_model.ort',
      'Rss:                2048 kB',
      'Pss:                1024 kB',
      'Private_Dirty:         0 kB',
      '7f10-7f20 rw-p 00000000 00:00 0 ',
      'Rss:                4096 kB',
      'Pss:                4096 kB',
      'Private_Dirty:      4096 kB',
      '7f20-7f30 r--p 00000000 08:01 13 /repo/.tools/moonshine/tiny-en/decoder_model_merged.ort',
      'Rss:                1024 kB',
      'Pss:                 512 kB',
      'Private_Dirty:       512 kB',
    ].join('\n');
    expect(mappedMemory(smaps, '.ort')).toEqual({ rssMb: 3, pssMb: 1.5, privateDirtyMb: 0.5 });
  });
});

describe('prewarmSteps', () => {
  it('reads the prewarmed line when other log lines come first', () => {
    const log = [
      '{"level":30,"msg":"speech providers: local"}',
      '{"level":30,"ms":2100,"cpuMs":{"imports":900,"providers":700},"msg":"prewarmed"}',
    ].join('\n');
    expect(prewarmSteps(log)).toEqual({ imports: 900, providers: 700 });
  });

  it('throws when no prewarmed line was logged', () => {
    expect(() => prewarmSteps('{"msg":"other"}')).toThrow(/no prewarmed line/);
  });
});
