/**
 * HTTP client of the Lambda Runtime API (docs/lambda-apis.md#runtime-api), on `node:http` only: no native
 * addon, unlike aws-lambda-ric. One keep-alive socket; Node unrefs an idle keep-alive socket, so
 * between invokes it does not hold the event loop open (the callback-handler semantics rely on
 * `beforeExit` firing when the handler's own work is done).
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';

// node:http through process.getBuiltinModule, not an ESM import: importing it as ESM makes Node build
// its module facade, which reads every export, lazy getters included, and one of them loads Node's
// bundled undici: ~30 ms of CPU at every start of this process (nodejs/node#57649, #59686).
const { Agent, request } = process.getBuiltinModule('node:http');

export interface NextInvocation {
  body: Buffer;
  headers: IncomingHttpHeaders;
}

export interface ApiAnswer {
  status: number;
  body: string;
}

const PREFIX = '/2018-06-01/runtime';

export class RuntimeApiClient {
  readonly #hostname: string;
  readonly #port: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(runtimeApi: string) {
    const match = /^([^:]+):(\d+)$/.exec(runtimeApi);
    if (!match) {
      throw new Error(`AWS_LAMBDA_RUNTIME_API must be <host>:<port>, got "${runtimeApi}"`);
    }
    this.#hostname = match[1]!;
    this.#port = Number(match[2]);
  }

  /** Long poll with no timeout (the Runtime API docs: "Do not set a timeout on the GET request"). */
  next(): Promise<NextInvocation> {
    return new Promise((resolve, reject) => {
      const req = request(this.#options('GET', `${PREFIX}/invocation/next`), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const body = Buffer.concat(chunks);
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`Runtime API /next answered ${res.statusCode}: ${body.toString('utf8')}`));
          } else resolve({ body, headers: res.headers });
        });
      });
      req.once('error', reject);
      req.end();
    });
  }

  postResponse(requestId: string, body: string): Promise<ApiAnswer> {
    return this.#post(`${PREFIX}/invocation/${encodeURIComponent(requestId)}/response`, body, {});
  }

  postError(requestId: string, body: string, errorType: string): Promise<ApiAnswer> {
    return this.#post(`${PREFIX}/invocation/${encodeURIComponent(requestId)}/error`, body, {
      'Lambda-Runtime-Function-Error-Type': errorType,
    });
  }

  postInitError(body: string, errorType: string): Promise<ApiAnswer> {
    return this.#post(`${PREFIX}/init/error`, body, { 'Lambda-Runtime-Function-Error-Type': errorType });
  }

  /**
   * A chunked `/response` in streaming mode; headers go out with the first write
   * (docs/lambda-apis.md#response-streaming).
   */
  openResponseStream(requestId: string): { req: ClientRequest; answer: Promise<ApiAnswer> } {
    let req!: ClientRequest;
    const answer = new Promise<ApiAnswer>((resolve, reject) => {
      req = request(
        this.#options('POST', `${PREFIX}/invocation/${encodeURIComponent(requestId)}/response`, {
          'Lambda-Runtime-Function-Response-Mode': 'streaming',
          'Transfer-Encoding': 'chunked',
          Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
          'Content-Type': 'application/octet-stream',
        }),
        (res) => collect(res, resolve, reject),
      );
      req.once('error', reject);
    });
    return { req, answer };
  }

  #options(method: string, path: string, headers: Record<string, string> = {}) {
    return { hostname: this.#hostname, port: this.#port, method, path, agent: this.#agent, headers };
  }

  #post(path: string, body: string, headers: Record<string, string>): Promise<ApiAnswer> {
    const bytes = Buffer.from(body, 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        this.#options('POST', path, {
          'Content-Type': 'application/json',
          'Content-Length': String(bytes.length),
          ...headers,
        }),
        (res) => collect(res, resolve, reject),
      );
      req.once('error', reject);
      req.end(bytes);
    });
  }
}

function collect(res: IncomingMessage, resolve: (a: ApiAnswer) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.once('error', reject);
  res.once('end', () =>
    resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
  );
}
