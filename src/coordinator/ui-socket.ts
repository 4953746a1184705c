// SPDX-License-Identifier: MIT
/**
 * One page socket at `/ws/remote/{code}/ui`: the page sends start/pause/resume/stop (spec,
 * "How the server schedules"); the coordinator sends `state`, `log` and, as our addition,
 * `progress` and a `control` answer. Malformed frames are logged and ignored.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../log/logger.js';
import type { ControlMessage, Scheduler } from './scheduler.js';
import type { SessionRow } from './store.js';

export function serveUiSocket(ws: WebSocket, remote: string, session: SessionRow, scheduler: Scheduler, log: Logger): void {
  const detach = scheduler.attachUi(session, {
    send: (msg) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    },
  });
  ws.on('close', detach);
  ws.on('error', (err) => log.warn('page socket error', { remote, error: err.message }));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return void log.warn('ignored a binary frame on a page socket', { remote });
    let m: unknown;
    try {
      m = JSON.parse(String(data));
    } catch {
      return void log.warn('ignored a page frame that is not JSON', { remote });
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof (m as ControlMessage).type !== 'string')
      return void log.warn('ignored a page frame without a "type"', { remote });
    const msg = m as ControlMessage;
    if (!['start', 'pause', 'resume', 'stop'].includes(msg.type)) return void log.debug('ignored a page frame of unknown type', { remote, type: msg.type.slice(0, 40) });
    scheduler
      .control(session, msg)
      .then((out) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'control', request: msg.type, ...out }));
      })
      .catch((e: unknown) => log.error('control failed', { remote, error: e instanceof Error ? e.message : String(e) }));
  });
}
