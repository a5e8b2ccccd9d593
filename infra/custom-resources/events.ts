// What CloudFormation hands a custom resource through CDK's provider framework
// (aws-cdk-lib/custom-resources): the request, the resource's properties (every value a string,
// as CloudFormation passes them) and, for updates and deletes, the physical id it returned before.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
import * as z from 'zod';

export const ORIGINATION_TYPE = 'Custom::VoiceConnectorRouting';
export const SIP_RULE_TYPE = 'Custom::SipRule';

const props = z.record(z.string(), z.unknown());

export const CustomResourceEvent = z.discriminatedUnion('RequestType', [
  z.object({
    RequestType: z.literal('Create'),
    ResourceType: z.string(),
    ResourceProperties: props,
  }),
  z.object({
    RequestType: z.literal('Update'),
    ResourceType: z.string(),
    PhysicalResourceId: z.string(),
    ResourceProperties: props,
    OldResourceProperties: props,
  }),
  z.object({
    RequestType: z.literal('Delete'),
    ResourceType: z.string(),
    PhysicalResourceId: z.string(),
    ResourceProperties: props,
  }),
]);
export type CustomResourceEvent = z.infer<typeof CustomResourceEvent>;

/** What the provider framework reports to CloudFormation. */
export interface CustomResourceResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

/** A number CloudFormation passed as a string (or a number, from a test). */
export const cfnInt = z.coerce.number().int();
/** A boolean CloudFormation passed as "true"/"false". */
export const cfnBool = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((s) => s === 'true'),
]);

/** Chime's answer for something already gone: a delete has nothing left to do. */
export function isNotFound(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'NotFoundException';
}
