/** Recorded in RunStarted so a run can be traced to the code that produced it. */
export const GROKSTREAM_VERSION = '0.1.0';
