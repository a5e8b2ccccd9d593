// A scripted call through the Twilio way in (`npm start -- --via twilio`): placed by the Twilio
// stand-in to the gateway's webhook, and what must hold for it, in place of the SMA's journal: the
// call ended, the gateway's connection item (with its expiry), the disposition as the REST updates
// show it (a <Dial> to a queue: transferred), the person heard, and an empty room.
import type { CallRun, PlacedCall, Via } from '../caller/call-run.js';
import type { Scenario } from '../caller/scenario.js';
import { LAB_CALLER, type Lab } from '../lab.js';
import type { SimulatedTwilioCall } from './twilio-call.js';

export function twilioPlacement(
  lab: Lab,
  scenario: Scenario,
): { via: Via; call: (note: CallRun['note']) => PlacedCall } {
  const twilio = lab.twilio;
  if (!twilio) throw new Error('the lab was started without the Twilio way in (twilio: true)');
  return {
    via: 'twilio',
    call: () => {
      const call = twilio.standIn.newCall({
        voiceUrl: twilio.voiceUrl,
        caller: scenario.caller ?? LAB_CALLER,
        dialed: scenario.dialed ?? lab.livekit.useCases.defaultUseCase.dialedNumbers[0]!,
        queueAnswers: () => scenario.queueAnswers ?? true,
      });
      return { call, media: call, tx: call.callSid };
    },
  };
}

function twilioCall(run: CallRun): SimulatedTwilioCall | undefined {
  return run.lab.twilio?.standIn.calls.get(run.tx);
}

/** The transfer's REST update (a <Dial>) as the stand-in received it, epoch ms. */
export function twilioTransferAt(run: CallRun): number {
  const dial = twilioCall(run)?.updates.find((u) => u.twiml?.includes('<Dial'));
  return dial ? performance.timeOrigin + dial.at : Number.NaN;
}

export async function checkTwilioCall(
  run: CallRun,
  items: Record<string, unknown>[],
): Promise<void> {
  const { check } = run;
  const call = twilioCall(run);
  for (const s of call?.steps ?? []) run.note('twilio', s.text, s.at);
  const clears = call?.received.filter((m) => m.event === 'clear').length ?? 0;
  const marks = call?.received.filter((m) => m.event === 'mark').length ?? 0;
  if (call) run.note('twilio', `the gateway sent ${marks} marks and ${clears} clears`, run.endedAt);
  check('the call ended', run.call.ended);
  const item = items.find((i) => String(i['sk']).startsWith('stream#'));
  check(
    'the gateway kept the connection item, ended and with its expiry',
    item !== undefined &&
      typeof item['EndedAt'] === 'number' &&
      typeof item['ExpiresAt'] === 'number',
    item ? `EndedAt ${String(item['EndedAt'])}, ExpiresAt ${String(item['ExpiresAt'])}` : 'no item',
  );
  const { disposition, transferOutcome } = run.scenario.expect;
  const transferred = call?.updates.some((u) => u.twiml?.includes('<Dial')) ?? false;
  if (disposition) {
    const found = transferred ? 'transferred' : 'ai_completed';
    check(`disposition ${disposition}`, found === disposition, found);
  }
  if (transferOutcome) {
    const found = run.media.firstAudibleAt('person') !== undefined ? 'connected' : 'failed';
    check(`transfer outcome ${transferOutcome}`, found === transferOutcome, found);
  }
  const left = await run.lab.participantsLeft([run.observer.roomName]);
  check("no one is left in the call's room", left === 0, `${left} participants`);
}
