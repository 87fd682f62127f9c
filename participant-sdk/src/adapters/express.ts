import type { NextFunction, Request, Response, Router } from 'express';
import { DtxSdkError } from '../errors.js';
import { createParticipantCallbacks, type ParticipantOptions } from '../http/participant-callbacks.js';
import { importPeer } from './import-peer.js';
import { requestFromNode, sendToNode } from './request-from-node.js';

/** An Express router serving the participant's callbacks, and how to stop what it started. */
export interface ParticipantRouter {
  router: Router;
  /** Stops its stranded-branch checks; the knex pool stays the caller's. */
  close(): Promise<void>;
}

/**
 * The Express adapter: a router to mount at any path (`app.use('/dtx', router)`); its
 * routes are `/<action>/<phase>` and `/_msg/check` below it. It reads each callback's raw
 * body itself (the signature covers the exact bytes), so mount it before `express.json()`
 * or give that parser other paths; other requests pass through untouched, and nothing here
 * handles errors, so the app's error middleware sees its own.
 */
export async function participantRouter(opts: ParticipantOptions): Promise<ParticipantRouter> {
  const express = await importPeer<typeof import('express')>('express', 'Express');
  const callbacks = await createParticipantCallbacks(opts);
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !callbacks.serves(req.path)) return next();
    // a body parser ran first: the bytes the signature covers are gone
    if (req.readableEnded || (req as { _body?: boolean })._body === true) {
      return next(new DtxSdkError('BODY_ALREADY_READ', `a body parser read ${req.originalUrl} before the DTX router: mount the router before express.json()`));
    }
    callbacks.answer(requestFromNode(req, req.path, req.originalUrl)).then((answer) => sendToNode(res, answer), next);
  });
  return { router, close: () => callbacks.close() };
}
