// The fault suite's files run in the order of their names (1-broker-outage ... 7-readonly-secrets),
// so the last case greps the captured output of every process the others started. Other
// projects keep vitest's own order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export class FaultsLastInNameOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const faults = sorted.filter((f) => f.project.name === 'faults').sort((a, b) => a.moduleId.localeCompare(b.moduleId));
    return [...sorted.filter((f) => f.project.name !== 'faults'), ...faults];
  }
}
