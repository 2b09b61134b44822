import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  parseEndpointDescriptor,
  safeParseEndpointDescriptor,
} from '../../src/contracts/endpoint-descriptor.js';
import { exposeSecret, Secret } from '../../src/secret/secret.js';
import { endpointDescriptorInput } from '../support/manifests.js';

const RAW = 'sk-live-7f3a9c0e-do-not-print';

// An in-memory stream, like pino.destination but collecting what is written.
function memoryStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function descriptorWithSecret() {
  return parseEndpointDescriptor(
    endpointDescriptorInput({
      headers: { authorization: new Secret(`Bearer ${RAW}`), 'x-plain': 'visible' },
    }),
  );
}

describe('Secret', () => {
  it('returns the real value from expose()', () => {
    expect(new Secret(RAW).expose()).toBe(RAW);
    expect(new Secret({ token: RAW }).expose()).toEqual({ token: RAW });
  });

  it('prints [redacted] through String() and toString()', () => {
    const secret = new Secret(RAW);
    expect(String(secret)).toBe('[redacted]');
    expect(secret.toString()).toBe('[redacted]');
    expect('' + secret).toBe('[redacted]');
  });

  it('prints [redacted] in template strings', () => {
    const secret = new Secret(RAW);
    expect(`Authorization: ${secret}`).toBe('Authorization: [redacted]');
  });

  it('serializes as "[redacted]" with JSON.stringify, alone and inside an EndpointDescriptor', () => {
    expect(JSON.stringify(new Secret(RAW))).toBe('"[redacted]"');
    const json = JSON.stringify(descriptorWithSecret());
    expect(json).not.toContain(RAW);
    expect(JSON.parse(json).headers).toEqual({ authorization: '[redacted]', 'x-plain': 'visible' });
  });

  it('shows Secret([redacted]) in util.inspect, alone, nested, and with hidden properties', () => {
    const secret = new Secret(RAW);
    expect(inspect(secret)).toBe('Secret([redacted])');
    const nested = inspect({ endpoint: descriptorWithSecret() }, { depth: null, showHidden: true });
    expect(nested).toContain('Secret([redacted])');
    expect(nested).not.toContain(RAW);
  });

  it('stays redacted through util.format (%o, %O, %s, %j) and console.log formatting', () => {
    const descriptor = descriptorWithSecret();
    for (const directive of ['%o', '%O', '%s', '%j']) {
      expect(format(directive, descriptor)).not.toContain(RAW);
      expect(format(directive, descriptor.headers.authorization)).not.toContain(RAW);
    }
    const { stream, text } = memoryStream();
    const console = new Console({ stdout: stream, stderr: stream });
    console.log('endpoint %o', descriptor);
    console.log(descriptor.headers.authorization);
    console.error({ nested: { deeper: [descriptor] } });
    expect(text()).toContain('Secret([redacted])');
    expect(text()).not.toContain(RAW);
  });

  it('never reaches pino output, as a field, nested in headers, or as the message', () => {
    const { stream, text } = memoryStream();
    const logger = pino({ level: 'trace' }, stream);
    const secret = new Secret(RAW);
    const descriptor = descriptorWithSecret();
    logger.info({ apiKey: secret }, 'starting');
    logger.debug({ endpoint: descriptor }, 'published');
    logger.warn(`key is ${secret}`);
    logger.error(secret as unknown as object);
    logger.child({ auth: secret }).trace('child');
    const out = text();
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(out).not.toContain(RAW);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ apiKey: '[redacted]', msg: 'starting' });
    expect(JSON.parse(lines[1] ?? '').endpoint.headers.authorization).toBe('[redacted]');
    expect(JSON.parse(lines[2] ?? '').msg).toBe('key is [redacted]');
    expect(JSON.parse(lines[4] ?? '').auth).toBe('[redacted]');
  });

  it('keeps the value out of a contract error message when a sibling field is bad', () => {
    const result = safeParseEndpointDescriptor(
      endpointDescriptorInput({ headers: { authorization: new Secret(RAW) }, healthRef: '' }),
    );
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(JSON.stringify(result.error)).not.toContain(RAW);
    expect(inspect(result.error, { depth: null })).not.toContain(RAW);
  });

  it('recognizes a Secret from a second copy of the package by its Symbol.for marker', () => {
    const foreign = {
      [Symbol.for('self-hosted-inference-core.secret')]: true,
      expose: () => RAW,
      toJSON: () => '[redacted]',
    };
    expect(Secret.isInstance(foreign)).toBe(true);
    expect(Secret.isInstance(new Secret(RAW))).toBe(true);
    expect(Secret.from(foreign as unknown as Secret<string>)).toBe(foreign);
    expect(exposeSecret(foreign as unknown as Secret<string>)).toBe(RAW);
    const descriptor = parseEndpointDescriptor(
      endpointDescriptorInput({ headers: { authorization: foreign } }),
    );
    expect(descriptor.headers.authorization).toBe(foreign);
  });

  it('does not mistake plain values or look-alikes for Secrets', () => {
    for (const value of [
      RAW,
      null,
      undefined,
      { expose: () => RAW },
      { [Symbol('self-hosted-inference-core.secret')]: true },
    ]) {
      expect(Secret.isInstance(value)).toBe(false);
    }
  });

  it('wraps plain values in Secret.from but does not double-wrap, and exposeSecret passes plain values through', () => {
    const secret = Secret.from(RAW);
    expect(secret.expose()).toBe(RAW);
    expect(Secret.from(secret)).toBe(secret);
    expect(exposeSecret(secret)).toBe(RAW);
    expect(exposeSecret('plain')).toBe('plain');
  });
});
