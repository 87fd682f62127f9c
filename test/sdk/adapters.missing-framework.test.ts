import { FrameworkMissingError } from '@dtx/participant-sdk';
import { describe, expect, it } from 'vitest';
import { importPeer } from '../../participant-sdk/src/adapters/import-peer.js';

describe('an adapter whose framework is not installed', () => {
  it('fails with FRAMEWORK_MISSING naming the package to install', async () => {
    const failure = importPeer('express-not-installed-here', 'Express');
    await expect(failure).rejects.toBeInstanceOf(FrameworkMissingError);
    await expect(failure).rejects.toMatchObject({ code: 'FRAMEWORK_MISSING', packageName: 'express-not-installed-here', message: 'the DTX Express adapter needs the express-not-installed-here package: npm install express-not-installed-here' });
  });

  it('passes on any other failure of the framework itself', async () => {
    await expect(importPeer('data:text/javascript,throw new Error("broken at load")', 'Express')).rejects.toThrow('broken at load');
  });
});
