// The custom resources' handlers against the Chime SDK Voice client, its calls mocked
// (aws-sdk-client-mock): what each CloudFormation request sends, in order, and how Chime's errors
// end up.
import {
  ChimeSDKVoiceClient,
  CreateSipRuleCommand,
  DeleteSipRuleCommand,
  DeleteVoiceConnectorOriginationCommand,
  DeleteVoiceConnectorTerminationCommand,
  NotFoundException,
  PutVoiceConnectorOriginationCommand,
  PutVoiceConnectorTerminationCommand,
  ThrottledClientException,
  UpdateSipRuleCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../infra/custom-resources/index.js';

const chime = mockClient(ChimeSDKVoiceClient);
const client = new ChimeSDKVoiceClient({ region: 'us-east-1' });

beforeEach(() => {
  chime.reset();
});

/** The commands sent, in order, as [name, input]. */
const sent = () =>
  chime.calls().map((c) => {
    const cmd = c.args[0] as { constructor: { name: string }; input: unknown };
    return [cmd.constructor.name.replace(/Command$/, ''), cmd.input];
  });

const notFound = () => new NotFoundException({ message: 'gone', $metadata: {} });

// As CloudFormation passes them: every value a string.
const routing = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  VoiceConnectorId: 'abcdef1234',
  Routes: [
    { Host: 'sip-a.example.com', Port: '5060', Protocol: 'UDP', Priority: '1', Weight: '70' },
    { Host: 'sip-b.example.com', Port: '5060', Protocol: 'TCP', Priority: '2', Weight: '30' },
  ],
};
const termination = { CidrAllowedList: ['203.0.113.0/27'], CallingRegions: ['US'], CpsLimit: '1' };
const ROUTING = 'Custom::VoiceConnectorRouting';
const RULE = 'Custom::SipRule';

describe('Voice Connector routing', () => {
  it('puts the origination routes with numbers and enables them on create', async () => {
    const res = await dispatch(
      { RequestType: 'Create', ResourceType: ROUTING, ResourceProperties: routing },
      client,
    );
    expect(res).toEqual({ PhysicalResourceId: 'abcdef1234/routing' });
    expect(sent()).toEqual([
      [
        'PutVoiceConnectorOrigination',
        {
          VoiceConnectorId: 'abcdef1234',
          Origination: {
            Disabled: false,
            Routes: [
              { Host: 'sip-a.example.com', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 70 },
              { Host: 'sip-b.example.com', Port: 5060, Protocol: 'TCP', Priority: 2, Weight: 30 },
            ],
          },
        },
      ],
    ]);
  });

  it('puts termination too when configured', async () => {
    await dispatch(
      {
        RequestType: 'Create',
        ResourceType: ROUTING,
        ResourceProperties: { ...routing, Termination: termination },
      },
      client,
    );
    expect(sent()[1]).toEqual([
      'PutVoiceConnectorTermination',
      {
        VoiceConnectorId: 'abcdef1234',
        Termination: {
          CidrAllowedList: ['203.0.113.0/27'],
          CallingRegions: ['US'],
          CpsLimit: 1,
          Disabled: false,
        },
      },
    ]);
  });

  it('deletes termination an update takes out of the configuration', async () => {
    await dispatch(
      {
        RequestType: 'Update',
        ResourceType: ROUTING,
        PhysicalResourceId: 'abcdef1234/routing',
        ResourceProperties: routing,
        OldResourceProperties: { ...routing, Termination: termination },
      },
      client,
    );
    expect(sent().map(([name]) => name)).toEqual([
      'PutVoiceConnectorOrigination',
      'DeleteVoiceConnectorTermination',
    ]);
  });

  it('refuses more than 10 routes before calling Chime', async () => {
    const routes = Array.from({ length: 11 }, () => routing.Routes[0]);
    await expect(
      dispatch(
        {
          RequestType: 'Create',
          ResourceType: ROUTING,
          ResourceProperties: { ...routing, Routes: routes },
        },
        client,
      ),
    ).rejects.toThrow(/Routes/);
    expect(chime.calls()).toHaveLength(0);
  });

  it('deletes origination and termination, and finishes when the Voice Connector is gone', async () => {
    chime.on(DeleteVoiceConnectorOriginationCommand).rejects(notFound());
    chime.on(DeleteVoiceConnectorTerminationCommand).resolves({});
    const res = await dispatch(
      {
        RequestType: 'Delete',
        ResourceType: ROUTING,
        PhysicalResourceId: 'abcdef1234/routing',
        ResourceProperties: { ...routing, Termination: termination },
      },
      client,
    );
    expect(res.PhysicalResourceId).toBe('abcdef1234/routing');
    expect(sent().map(([name]) => name)).toEqual([
      'DeleteVoiceConnectorOrigination',
      'DeleteVoiceConnectorTermination',
    ]);
  });

  it('fails the resource on any other Chime error', async () => {
    chime
      .on(PutVoiceConnectorOriginationCommand)
      .rejects(new ThrottledClientException({ message: 'slow down', $metadata: {} }));
    await expect(
      dispatch(
        { RequestType: 'Create', ResourceType: ROUTING, ResourceProperties: routing },
        client,
      ),
    ).rejects.toThrow('slow down');
    expect(chime.commandCalls(PutVoiceConnectorTerminationCommand)).toHaveLength(0);
  });
});

const rule = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  Name: 'callbridge-0123456789',
  PhoneNumber: '+12025550131',
  SipMediaApplicationId: 'sma-1',
  AwsRegion: 'us-east-1',
};
const targets = [{ SipMediaApplicationId: 'sma-1', Priority: 1, AwsRegion: 'us-east-1' }];

describe('SIP rule', () => {
  it('creates an enabled ToPhoneNumber rule and returns its id', async () => {
    chime.on(CreateSipRuleCommand).resolves({ SipRule: { SipRuleId: 'rule-1' } });
    const res = await dispatch(
      { RequestType: 'Create', ResourceType: RULE, ResourceProperties: rule },
      client,
    );
    expect(res).toEqual({ PhysicalResourceId: 'rule-1', Data: { SipRuleId: 'rule-1' } });
    expect(sent()).toEqual([
      [
        'CreateSipRule',
        {
          Name: 'callbridge-0123456789',
          TriggerType: 'ToPhoneNumber',
          TriggerValue: '+12025550131',
          Disabled: false,
          TargetApplications: targets,
        },
      ],
    ]);
  });

  it('fails when Chime answers without a rule id', async () => {
    chime.on(CreateSipRuleCommand).resolves({});
    await expect(
      dispatch({ RequestType: 'Create', ResourceType: RULE, ResourceProperties: rule }, client),
    ).rejects.toThrow('without a SipRuleId');
  });

  it('updates the rule in place when its number stays', async () => {
    chime.on(UpdateSipRuleCommand).resolves({});
    const res = await dispatch(
      {
        RequestType: 'Update',
        ResourceType: RULE,
        PhysicalResourceId: 'rule-1',
        ResourceProperties: { ...rule, SipMediaApplicationId: 'sma-2' },
        OldResourceProperties: rule,
      },
      client,
    );
    expect(res.PhysicalResourceId).toBe('rule-1');
    expect(sent()).toEqual([
      [
        'UpdateSipRule',
        {
          SipRuleId: 'rule-1',
          Name: 'callbridge-0123456789',
          Disabled: false,
          TargetApplications: [{ ...targets[0], SipMediaApplicationId: 'sma-2' }],
        },
      ],
    ]);
  });

  it('creates a new rule for a new number (CloudFormation then deletes the old one)', async () => {
    chime.on(CreateSipRuleCommand).resolves({ SipRule: { SipRuleId: 'rule-2' } });
    const res = await dispatch(
      {
        RequestType: 'Update',
        ResourceType: RULE,
        PhysicalResourceId: 'rule-1',
        ResourceProperties: { ...rule, PhoneNumber: '+12025550133' },
        OldResourceProperties: rule,
      },
      client,
    );
    expect(res.PhysicalResourceId).toBe('rule-2');
    expect(chime.commandCalls(UpdateSipRuleCommand)).toHaveLength(0);
  });

  it('disables the rule before deleting it, as Chime requires', async () => {
    chime.on(UpdateSipRuleCommand).resolves({});
    chime.on(DeleteSipRuleCommand).resolves({});
    await dispatch(
      {
        RequestType: 'Delete',
        ResourceType: RULE,
        PhysicalResourceId: 'rule-1',
        ResourceProperties: rule,
      },
      client,
    );
    expect(sent()).toEqual([
      [
        'UpdateSipRule',
        {
          SipRuleId: 'rule-1',
          Name: 'callbridge-0123456789',
          Disabled: true,
          TargetApplications: targets,
        },
      ],
      ['DeleteSipRule', { SipRuleId: 'rule-1' }],
    ]);
  });

  it('finishes a delete of a rule that is already gone', async () => {
    chime.on(UpdateSipRuleCommand).rejects(notFound());
    await expect(
      dispatch(
        {
          RequestType: 'Delete',
          ResourceType: RULE,
          PhysicalResourceId: 'rule-1',
          ResourceProperties: rule,
        },
        client,
      ),
    ).resolves.toEqual({ PhysicalResourceId: 'rule-1' });
    expect(chime.commandCalls(DeleteSipRuleCommand)).toHaveLength(0);
  });

  it('fails a delete Chime refuses, leaving the rule for CloudFormation to report', async () => {
    chime.on(UpdateSipRuleCommand).resolves({});
    chime
      .on(DeleteSipRuleCommand)
      .rejects(new ThrottledClientException({ message: 'slow down', $metadata: {} }));
    await expect(
      dispatch(
        {
          RequestType: 'Delete',
          ResourceType: RULE,
          PhysicalResourceId: 'rule-1',
          ResourceProperties: rule,
        },
        client,
      ),
    ).rejects.toThrow('slow down');
  });

  it('refuses a rule whose trigger is not a phone number', async () => {
    await expect(
      dispatch(
        {
          RequestType: 'Create',
          ResourceType: RULE,
          ResourceProperties: { ...rule, PhoneNumber: '911' },
        },
        client,
      ),
    ).rejects.toThrow(/PhoneNumber/);
    expect(chime.calls()).toHaveLength(0);
  });
});

describe('custom resource dispatch', () => {
  it('refuses a resource type it has no handler for', async () => {
    await expect(
      dispatch(
        { RequestType: 'Create', ResourceType: 'Custom::Other', ResourceProperties: {} },
        client,
      ),
    ).rejects.toThrow('no handler for Custom::Other');
  });
});
