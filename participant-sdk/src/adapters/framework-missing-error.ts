import { DtxSdkError } from '../errors.js';

/** An adapter whose framework (an optional peer dependency) is not installed. */
export class FrameworkMissingError extends DtxSdkError {
  constructor(
    readonly packageName: string,
    adapter: string,
    options?: { cause?: unknown },
  ) {
    super('FRAMEWORK_MISSING', `the DTX ${adapter} adapter needs the ${packageName} package: npm install ${packageName}`, options);
  }
}
