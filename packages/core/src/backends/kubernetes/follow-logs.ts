/**
 * Following a container's log (`GET /api/v1/namespaces/{ns}/pods/{pod}/log?follow=true`) into a
 * sink, with the client's own authentication (`KubeConfig.applyToHTTPSOptions`: certificates, token).
 *
 * Why not the client's `Log` class: it pipes the response into the sink but keeps the response to
 * itself, so aborting it leaves an AbortError on a stream nobody listens to (an uncaught exception
 * in the test process). Here the request is ours: stopping it is a plain `destroy()`.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface LogFollow {
  /** Stops following. Idempotent. */
  stop(): void;
}

/** Resolves once the API server answered 200; `onData` gets the bytes, `onEnd` once when the log ends. */
export async function followLogs(
  config: KubeConfig,
  target: { namespace: string; pod: string; container: string },
  onData: (chunk: Buffer) => void,
  onEnd: () => void,
): Promise<LogFollow> {
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  const url = new URL(
    `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/log`,
    server,
  );
  url.searchParams.set('container', target.container);
  url.searchParams.set('follow', 'true');
  const options: https.RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  const get = url.protocol === 'https:' ? https.get : http.get;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new Promise<LogFollow>((resolve, reject) => {
    const request = get(url, options, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`the API server answered ${response.statusCode} to the log request`));
        return;
      }
      response.on('data', (chunk: Buffer) => onData(chunk));
      response.on('end', end);
      response.on('error', end);
      response.on('close', end);
      resolve({
        stop() {
          request.destroy();
          end();
        },
      });
    });
    request.on('error', (error) => {
      end();
      reject(error);
    });
  });
}
