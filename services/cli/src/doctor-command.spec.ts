import { describe, expect, it } from 'vitest';
import { gpuPrecision } from './doctor-command.ts';

describe('doctor: the GPU precision line', () => {
  it('says float32 when the native backend turned TF32 off, and warns when the user allowed it', () => {
    expect(gpuPrecision({ NVIDIA_TF32_OVERRIDE: '0' })).toBe('float32 matmuls (TF32 off; NVIDIA_TF32_OVERRIDE=1 turns it on)');
    expect(gpuPrecision({ NVIDIA_TF32_OVERRIDE: '1' })).toMatch(/TF32 matmuls allowed \(NVIDIA_TF32_OVERRIDE=1\): the probes lose precision/);
    expect(gpuPrecision({})).toMatch(/NVIDIA_TF32_OVERRIDE=unset/);
  });
});
