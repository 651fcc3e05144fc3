import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { OtlpSignal } from './otlp.type.js';

const gunzip = promisify(gunzipCallback);

/** A request refused as a whole, with the HTTP status OTLP/HTTP prescribes for the case. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type OtlpEncoding = 'protobuf' | 'json';

export const signalPaths: Record<string, OtlpSignal> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
};

export const mediaTypes: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

export function encodingOf(contentType: string | undefined): OtlpEncoding {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === mediaTypes.protobuf) return 'protobuf';
  if (media === mediaTypes.json) return 'json';
  throw new HttpProblem(
    415,
    `content type ${JSON.stringify(contentType ?? '')} is not supported: expected application/x-protobuf or application/json`,
  );
}

/** The body, un-gzipped; both the bytes on the wire and the inflated bytes are held to maxBytes. */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const contentEncoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (contentEncoding !== 'gzip' && contentEncoding !== 'identity')
    throw new HttpProblem(415, `content encoding ${contentEncoding} is not supported: expected gzip or none`);
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpProblem(413, `body of ${declared} bytes exceeds ${maxBytes}`);
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped rather than the stream destroyed, which would take the
    // socket, and the 413 with it, down before the sender reads the answer.
    request.on('data', (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size > maxBytes) reject(new HttpProblem(413, `body exceeds ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
  if (contentEncoding === 'identity') return body;
  try {
    return await gunzip(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new HttpProblem(413, `inflated body exceeds ${maxBytes} bytes`);
    throw new HttpProblem(400, `body is not valid gzip: ${(error as Error).message}`);
  }
}

/** google.rpc.Status codes for the HTTP statuses this receiver answers with. */
export function rpcCode(status: number): number {
  switch (status) {
    case 404:
      return 5; // NOT_FOUND
    case 405:
      return 12; // UNIMPLEMENTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 3; // INVALID_ARGUMENT
  }
}
