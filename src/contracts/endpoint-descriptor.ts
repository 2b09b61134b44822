import { z } from 'zod';
import { defineContract } from './define-contract.js';
import {
  capabilitiesSchema,
  headersSchema,
  managementModeSchema,
  metadataSchema,
  protocolSchema,
  runtimeKindSchema,
} from './vocabulary.js';

const OPENAI_PROTOCOLS = new Set(['openai_chat_completions', 'openai_completions', 'openai_embeddings']);

/** What a caller gets back: where to send requests and with which headers. Secrets serialize redacted. */
export const endpointDescriptorSchema = z
  .strictObject({
    /** `<instanceId>:endpoint`. */
    endpointId: z.string().min(1),
    runtimeKind: runtimeKindSchema,
    managementMode: managementModeSchema,
    targetClass: z.literal('self_hosted_endpoint').default('self_hosted_endpoint'),
    protocol: protocolSchema,
    /** Base URL for clients; ends in `/v1` for OpenAI protocols. */
    baseUrl: z.url(),
    /** Headers every request must carry (auth values are Secrets). */
    headers: headersSchema.default({}),
    providerIdentity: z.string().min(1),
    modelIdentity: z.string().nullable().default(null),
    /** The backend id the endpoint comes from. */
    sourceRuntime: z.string().min(1),
    /** A native address of the runtime (e.g. an Ollama root URL) or the instance id. */
    sourceRuntimeRef: z.string().min(1),
    leaseRef: z.string().nullable().default(null),
    /** The instance id to ask about health. */
    healthRef: z.string().min(1),
    boundaryRef: z.string().nullable().default(null),
    capabilities: capabilitiesSchema.default({}),
    metadata: metadataSchema.default({}),
  })
  // zod runs this even when baseUrl already failed `z.url()`; an unparseable URL is reported there, not here.
  .refine(
    (d) =>
      !OPENAI_PROTOCOLS.has(d.protocol) ||
      typeof d.baseUrl !== 'string' ||
      !URL.canParse(d.baseUrl) ||
      new URL(d.baseUrl).pathname.replace(/\/+$/, '').endsWith('/v1'),
    {
      message: 'baseUrl must end in /v1 for OpenAI protocols',
      path: ['baseUrl'],
    },
  );
export type EndpointDescriptor = z.output<typeof endpointDescriptorSchema>;

export const endpointDescriptorContract = defineContract(
  'EndpointDescriptor',
  'invalid_contract',
  endpointDescriptorSchema,
);
export const parseEndpointDescriptor = endpointDescriptorContract.parse;
export const safeParseEndpointDescriptor = endpointDescriptorContract.safeParse;
