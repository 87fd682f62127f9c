import { FrameworkMissingError } from './framework-missing-error.js';

/** Loads an adapter's framework, an optional peer dependency: missing, it fails naming the package to install. */
export async function importPeer<M>(packageName: string, adapter: string): Promise<M> {
  try {
    return (await import(packageName)) as M;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new FrameworkMissingError(packageName, adapter, { cause: err });
    throw err;
  }
}
